"""Decoy for 08.5: prometheus-client's default buckets (cut to max_buckets): made for 'a typical web service', not this one. Caught by test_quantiles_within_ten_percent."""

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
    default = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0]
    return default[:max_buckets]
