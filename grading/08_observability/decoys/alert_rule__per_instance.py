"""Decoy for 08.4: the ratio per service *and instance*: one instance failing a few of its few requests pages for a service that is 98 % fine. Caught by test_per_service_not_per_instance."""

from __future__ import annotations

import math
import re
from typing import Any, Final

__all__ = ["high_error_rate_rule"]

DURATION: Final = re.compile(r"[1-9][0-9]*(ms|s|m|h|d|w|y)")


def _duration(name: str, value: object) -> str:
    if not isinstance(value, str) or DURATION.fullmatch(value) is None:
        raise ValueError(f"{name} must be a Prometheus duration such as 5m, not {value!r}")
    return value


def high_error_rate_rule(
    threshold: float = 0.05, window: str = "5m", for_: str = "2m"
) -> dict[str, Any]:
    """The HighErrorRate rule for a rule group's ``rules:`` list."""
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, (int, float))
        or not math.isfinite(threshold)
        or not 0 < threshold < 1
    ):
        raise ValueError(f"threshold must be a share strictly between 0 and 1, not {threshold!r}")
    window = _duration("window", window)
    for_ = _duration("for_", for_)
    errors = f'sum by (service, instance) (rate(http_requests_total{{status=~"5.."}}[{window}]))'
    requests = f"sum by (service, instance) (rate(http_requests_total[{window}]))"
    return {
        "alert": "HighErrorRate",
        "expr": f"{errors}\n  /\n{requests}\n  > {threshold!r}",
        "for": for_,
        "labels": {"severity": "page"},
        "annotations": {
            "summary": (
                "{{ $labels.service }}: {{ $value | humanizePercentage }} of requests answer 5xx"
            ),
        },
    }
