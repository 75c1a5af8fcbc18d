"""Decoy for 08.5: bounds up to the sample's p99.5 and no higher: about 0.5-1 % of new requests land in +Inf, where histogram_quantile can only answer the highest finite bound. Caught by test_the_tail_stays_out_of_inf."""

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
    levels = (0.47, 0.53, 0.88, 0.92, 0.986, 0.99, 0.994)[:max_buckets]
    return sorted({float(f"{float(np.quantile(values, q)):.3g}") for q in levels})
