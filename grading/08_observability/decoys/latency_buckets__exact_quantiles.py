"""Decoy for 08.5: one bound exactly at each measured quantile (p50, p90, p99) and a top: right on the training sample, but a new sample's p99 falls on the other side of the bound about half the time, and the estimate then comes from the wide bucket next to it. Caught by test_quantiles_within_ten_percent."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def latency_buckets(samples: Sequence[float], max_buckets: int) -> list[float]:
    values = np.asarray(list(samples), dtype=float)
    if max_buckets < 7 or values.size < 2 or not np.all(np.isfinite(values)) or np.any(values < 0):
        raise ValueError("unusable latencies")
    at = {float(f"{float(np.quantile(values, q)):.3g}") for q in (0.5, 0.9, 0.99)}
    return sorted(at | {float(values.max()) * 2})
