"""Decoy for 08.5: bounds that suited the notebook's measured demo service (a few ms), hard-coded: a service around 0.8 s gets p50, p90 and p99 all in +Inf territory. Caught by test_quantiles_within_ten_percent."""

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
    del values
    return [0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.1][:max_buckets]
