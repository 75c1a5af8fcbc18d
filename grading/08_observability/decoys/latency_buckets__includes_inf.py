"""Decoy for 08.5: adds +Inf as a bound itself (it is implicit: prometheus-client appends it) and so also hands back a non-finite bound. Caught by test_bounds_are_finite_and_strictly_increasing."""

from __future__ import annotations

import math
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
    bounds = sorted(
        {float(f"{float(np.quantile(values, q)):.3g}") for q in levels} | {float(values.max()) * 2}
    )
    return [*bounds[: max_buckets - 1], math.inf]
