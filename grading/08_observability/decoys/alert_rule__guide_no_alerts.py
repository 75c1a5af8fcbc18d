"""Decoy for 08.4: the guide's monitoring stack: Prometheus with no alerting rule at all (Rule 7 unmet). The closest a function can come is a rule that can never fire. Caught by test_fires_after_its_for_and_not_before."""

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
    return {
        "alert": "HighErrorRate",
        "expr": "vector(0) > 1",
        "for": for_,
        "labels": {"severity": "page"},
        "annotations": {
            "summary": "{{ $labels.service }}: {{ $value | humanizePercentage }} of requests answer 5xx",
        },
    }
