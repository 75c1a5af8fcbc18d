"""Taught in notebooks/08_observability_metrics.ipynb §3.

Exercise 08.5: histogram bucket bounds chosen from measured latencies.

The guide's histogram has the buckets ``[0.01, 0.1, 0.5, 1, 5]``: a p99 of 40 ms sits in a bucket
90 ms wide, and ``histogram_quantile`` — which interpolates linearly inside the bucket holding the
wanted rank — can answer anything in it. Write ``latency_buckets(samples, max_buckets)``: given
latencies measured from a service (seconds), return the bucket upper bounds for its
``http_request_duration_seconds`` histogram such that, on **new** latencies from the same service,

* ``histogram_quantile`` estimates p50, p90 and p99 each within 10 % of the true quantile;
* at most 0.5 % of the new latencies land above the highest bound (in ``+Inf`` a quantile can only
  be answered with the highest finite bound);
* there are at most ``max_buckets`` bounds (each bucket is a series per label set);
* the bounds are finite, positive, strictly increasing, without ``+Inf`` (prometheus-client adds
  it) — quantiles of timings that tie (a timer's floor) must not give the same bound twice.

Raise ``ValueError`` for fewer than two samples, any NaN, negative or infinite sample (a clock bug,
not a latency), or ``max_buckets`` below 7.

You are graded on distributions you have not seen (fast, bimodal, slow, tied at a timer's floor):
the bounds must follow the samples you get, not a list that suited the notebook's.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def latency_buckets(samples: Sequence[float], max_buckets: int) -> list[float]:
    """Bucket upper bounds (seconds, increasing) for a histogram of latencies like ``samples``."""
    # Why these bounds: notebooks/08_observability_metrics.ipynb §3 and the hints.
    # What dashboards and alerts read. Each gets a narrow bucket around it: from a little below to a
    # little above, in rank (the neighbouring quantiles) and in value (± relative of it), whichever is
    # wider, so a new sample whose quantile moved a little still lands inside it.
    targets = ((0.5, 0.03), (0.9, 0.02), (0.99, 0.004))  # (level, rank half-width)
    relative = 0.03
    extra = (0.75, 0.95, 0.25, 0.999)  # where buckets remain: the shape between the targets
    tail_headroom = 2.0  # the top bound, as a multiple of the slowest sample
    min_buckets = 2 * len(targets) + 1

    def three_digits(x: float) -> float:
        return float(f"{x:.3g}")

    if max_buckets < min_buckets:
        raise ValueError(
            f"need room for a bucket around p50, p90, p99 and a top: max_buckets >= {min_buckets}"
        )
    values = np.asarray(list(samples), dtype=float)
    if values.size < 2:
        raise ValueError("need at least two latency samples")
    if not np.all(np.isfinite(values)) or np.any(values < 0) or not np.any(values > 0):
        raise ValueError("latency samples are finite seconds >= 0, not all 0")

    def at(level: float) -> float:
        return float(np.quantile(values, level))

    top = three_digits(float(values.max()) * tail_headroom)
    wanted: list[float] = []
    for level, half in targets:
        middle = at(level)
        wanted += [
            min(at(level - half), middle * (1 - relative)),
            max(at(level + half), middle * (1 + relative)),
        ]
    wanted += [at(level) for level in extra]
    bounds: set[float] = {top}
    for bound in map(three_digits, wanted):
        if len(bounds) == max_buckets:
            break
        if 0 < bound < top:
            bounds.add(bound)  # a tie (coarse clocks give equal quantiles) adds nothing
    return sorted(bounds)
