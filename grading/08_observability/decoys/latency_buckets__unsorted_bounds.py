"""Decoy for 08.5: the right bounds in the order they were computed (the top first): prometheus-client refuses unsorted buckets. Caught by test_bounds_are_finite_and_strictly_increasing."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _check(samples: Sequence[float], max_buckets: int) -> np.ndarray:
    values = np.asarray(list(samples), dtype=float)
    if max_buckets < 7 or values.size < 2 or not np.all(np.isfinite(values)) or np.any(values < 0):
        raise ValueError("unusable latencies")
    return values


def latency_buckets(samples: Sequence[float], max_buckets: int) -> list[float]:
    values = _check(samples, max_buckets)
    levels = (0.47, 0.53, 0.88, 0.92, 0.986, 0.994)
    bounds = [float(np.quantile(values, q)) for q in levels]
    return [float(values.max()) * 2, *bounds]
