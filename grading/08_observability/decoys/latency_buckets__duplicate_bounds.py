"""Decoy for 08.5: bounds at quantiles without removing ties: timings at a timer's 1 ms floor give the same bound several times (duplicate le labels in one histogram). Caught by test_bounds_are_finite_and_strictly_increasing."""

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
    levels = (0.1, 0.25, 0.47, 0.53, 0.88, 0.92, 0.986, 0.994)[: max_buckets - 1]
    bounds = [float(np.quantile(values, q)) for q in levels]
    return [*sorted(bounds), float(values.max()) * 2]
