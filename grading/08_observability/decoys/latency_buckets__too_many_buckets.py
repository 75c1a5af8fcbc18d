"""Decoy for 08.5: one bound per percentile (99 of them) and a top: accurate, but every bound is a series per label set and max_buckets is ignored. Caught by test_at_most_max_buckets."""

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
    levels = [i / 100 for i in range(1, 100)]
    bounds = {float(f"{float(np.quantile(values, q)):.3g}") for q in levels}
    return sorted(b for b in bounds | {float(values.max()) * 2} if b > 0)
