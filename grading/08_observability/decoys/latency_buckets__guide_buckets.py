"""Decoy for 08.5: the guide's own buckets, [0.01, 0.1, 0.5, 1, 5], whatever was measured: a p99 between 10 and 100 ms is interpolated across a 90 ms bucket. Caught by test_quantiles_within_ten_percent."""

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
    del values  # the guide never looks
    return [0.01, 0.1, 0.5, 1.0, 5.0]
