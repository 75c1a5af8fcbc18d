"""Decoy for 08.3: the guide's prom-client middleware as it is (guide/observability/metrics.py): labels by req.route?.path || req.path on the process-wide default registry, counts on 'finish' only. Caught by test_random_404s_add_no_series."""

from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry
from starlette.applications import Starlette

from guide.observability.metrics import MetricsMiddleware
from reference.observability.metrics import (
    CLIENT_CLOSED,
    DEFAULT_BUCKETS,
    KNOWN_METHODS,
    OTHER_METHOD,
    UNMATCHED,
)

__all__ = [
    "CLIENT_CLOSED",
    "DEFAULT_BUCKETS",
    "KNOWN_METHODS",
    "OTHER_METHOD",
    "UNMATCHED",
    "instrument",
]


def instrument(app: Starlette, service: str) -> CollectorRegistry:
    app.add_middleware(MetricsMiddleware)
    return REGISTRY
