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


def latency_buckets(samples: Sequence[float], max_buckets: int) -> list[float]:
    """Bucket upper bounds (seconds, increasing) for a histogram of latencies like ``samples``."""
    # TODO: validate; narrow buckets around the samples' p50, p90 and p99 (a bound a little below
    # and a little above each), a top bound well above the slowest sample; no ties; sorted.
    raise NotImplementedError("exercise 08.5: write latency_buckets()")
