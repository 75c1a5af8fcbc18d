"""Decoy for 08.5: evenly spaced bounds from the fastest to twice the slowest sample: latency is skewed, so nearly every request lands in the first bucket and p50/p90 are guessed across it. Caught by test_quantiles_within_ten_percent."""

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
    low, high = float(values.min()), float(values.max()) * 2
    return [float(b) for b in np.linspace(max(low, 1e-4), high, max_buckets)]
