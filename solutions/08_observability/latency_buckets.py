"""Taught in notebooks/08_observability_metrics.ipynb §3.

Exercise 08.5: histogram bucket bounds chosen from measured latencies — the instructors' answer.

``histogram_quantile`` finds the bucket holding the wanted rank and interpolates linearly inside
it, so an estimate is only as good as the bucket around the quantile is narrow. Bounds at the
measured quantiles themselves put a bound right where each quantile a dashboard reads lies; the
most important quantiles get a bound first when ``max_buckets`` is small. The top bound sits well
above the slowest sample, so new, slower requests stay out of ``+Inf`` (where ``histogram_quantile``
can only answer the highest finite bound).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# What dashboards and alerts read. Each gets a narrow bucket around it: from a little below to a
# little above, in rank (the neighbouring quantiles) and in value (±RELATIVE of it), whichever is
# wider, so a new sample whose quantile moved a little still lands inside it.
TARGETS = ((0.5, 0.03), (0.9, 0.02), (0.99, 0.004))  # (level, rank half-width)
RELATIVE = 0.03
EXTRA = (0.75, 0.95, 0.25, 0.999)  # where buckets remain: the shape between the targets
TAIL_HEADROOM = 2.0  # the top bound, as a multiple of the slowest sample
MIN_BUCKETS = 2 * len(TARGETS) + 1


def _three_digits(x: float) -> float:
    return float(f"{x:.3g}")


def latency_buckets(samples: Sequence[float], max_buckets: int) -> list[float]:
    if max_buckets < MIN_BUCKETS:
        raise ValueError(
            f"need room for a bucket around p50, p90, p99 and a top: max_buckets >= {MIN_BUCKETS}"
        )
    values = np.asarray(list(samples), dtype=float)
    if values.size < 2:
        raise ValueError("need at least two latency samples")
    if not np.all(np.isfinite(values)) or np.any(values < 0) or not np.any(values > 0):
        raise ValueError("latency samples are finite seconds >= 0, not all 0")

    def at(level: float) -> float:
        return float(np.quantile(values, level))

    top = _three_digits(float(values.max()) * TAIL_HEADROOM)
    wanted: list[float] = []
    for level, half in TARGETS:
        middle = at(level)
        wanted += [
            min(at(level - half), middle * (1 - RELATIVE)),
            max(at(level + half), middle * (1 + RELATIVE)),
        ]
    wanted += [at(level) for level in EXTRA]
    bounds: set[float] = {top}
    for bound in map(_three_digits, wanted):
        if len(bounds) == max_buckets:
            break
        if 0 < bound < top:
            bounds.add(bound)  # a tie (coarse clocks give equal quantiles) adds nothing
    return sorted(bounds)
