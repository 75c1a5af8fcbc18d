"""Taught in notebooks/08_observability_alerts.ipynb §2.

Exercise 08.4: the HighErrorRate alerting rule.

The guide's monitoring stack (its ELK compose file) runs Prometheus with no rules at all: Rule 7 says
"set up alerts", and nothing would ever page. Write the one alert every HTTP service needs, over the
chapter's metric ``http_requests_total{service, method, route, status}`` (a counter per
instance), as Prometheus reads it: one entry of a rule group's ``rules:`` list.

``high_error_rate_rule(threshold=0.05, window="5m", for_="2m")`` returns a dict with

* ``"alert": "HighErrorRate"``;
* ``"expr"``: a PromQL expression that is true, **per service** (one alert per ``service``
  label, whatever its instances, routes and methods), when the share of that service's requests
  answered with a **5xx** status over the last ``window`` is above ``threshold``. A 4xx is the
  client's mistake, not an error of the service. The alert's labels are the ``service`` and nothing
  else from the series (no ``instance``, ``route``, ``method``, ``status``, ``job``). A service with
  no traffic in the window fires nothing;
* ``"for": for_``: the condition must hold that long before the alert fires, so one bad scrape or a
  few seconds of errors page nobody;
* ``"labels": {"severity": "page"}``;
* ``"annotations"``: a ``"summary"`` for the person paged that names the service
  (``{{ $labels.service }}``) and shows the measured share (``{{ $value | humanizePercentage }}``).

``threshold`` is a number strictly between 0 and 1; ``window`` and ``for_`` are Prometheus durations
(``30s``, ``5m``, ``1h``: digits and a unit among ms, s, m, h, d, w, y). Anything else is a
``ValueError`` — these strings go into PromQL, and ``5m]) or vector(1`` must not.

Graded by Prometheus' own ``promtool test rules`` on hidden series, with your rule in a rule file.
"""

from __future__ import annotations

from typing import Any

__all__ = ["high_error_rate_rule"]


def high_error_rate_rule(
    threshold: float = 0.05, window: str = "5m", for_: str = "2m"
) -> dict[str, Any]:
    """The HighErrorRate rule for a rule group's ``rules:`` list."""
    # The ratio divides two sums that keep only `service`: dividing the raw rates would match series
    # label for label (`status` included), so nothing would divide; `sum` without `by` would lose
    # the service. rate() over the window, not the counters, so the alert follows what happens now
    # and resolves when the errors stop. No traffic: 0/0 is NaN, above no threshold.
    import math
    import re

    duration = re.compile(r"[1-9][0-9]*(ms|s|m|h|d|w|y)")
    for name, value in (("window", window), ("for_", for_)):
        if not isinstance(value, str) or duration.fullmatch(value) is None:
            raise ValueError(f"{name} must be a Prometheus duration such as 5m, not {value!r}")
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, (int, float))
        or not math.isfinite(threshold)
        or not 0 < threshold < 1
    ):
        raise ValueError(f"threshold must be a share strictly between 0 and 1, not {threshold!r}")
    errors = f'sum by (service) (rate(http_requests_total{{status=~"5.."}}[{window}]))'
    requests = f"sum by (service) (rate(http_requests_total[{window}]))"
    return {
        "alert": "HighErrorRate",
        "expr": f"{errors}\n  /\n{requests}\n  > {threshold!r}",
        "for": for_,
        "labels": {"severity": "page"},
        "annotations": {
            "summary": "{{ $labels.service }}: {{ $value | humanizePercentage }} of requests answer 5xx",
        },
    }
