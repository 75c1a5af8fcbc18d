"""Taught in notebooks/08_observability_metrics.ipynb §2.

Exercise 08.3: RED metrics labelled by route template, on a registry of the app's own.

The guide's prom-client middleware labels each request with ``req.route?.path || req.path``: every
404 a scanner sends becomes a series of its own, a mounted router's ``/:id`` collides with every other
router's, and a client that hangs up is never counted (``finish`` is not emitted on an abort).
Write ``instrument(app, service)``: it adds a pure ASGI middleware to the Starlette/FastAPI ``app``
and returns a **new** ``prometheus_client.CollectorRegistry`` (never the global ``REGISTRY``: a
second app built in the same process must neither raise "Duplicated timeseries" nor share counts)
holding

* ``http_requests_total{service, method, route, status}`` — a Counter, one per request when it ends;
* ``http_request_duration_seconds{service, method, route}`` — a Histogram (``DEFAULT_BUCKETS``);
* ``http_requests_in_progress{service, method, route}`` — a Gauge, back to 0 when a request ends,
  also when the app raised;
* ``http_requests_aborted_total{service, method, route}`` — a Counter of requests whose client
  disconnected (ASGI ``http.disconnect`` from ``receive``) before the last body chunk was sent.

Labels:

* ``service``: the given name;
* ``route``: the template of the matched route **with every mount prefix**
  (``app.mount("/api/users", users)`` + ``@users.get("/{user_id}")`` → ``/api/users/{user_id}``;
  mounts inside mounts add every prefix; a prefix with a parameter stays a template,
  ``/shops/{shop_id}/items/{item_id}``), or ``UNMATCHED`` when no route matches. Find it by matching ``app.router.routes`` with Starlette's own
  ``route.matches(scope)`` (``Match.FULL``; a ``Mount`` hands you a child scope to go deeper);
* ``method``: the request method if it is in ``KNOWN_METHODS``, else ``OTHER_METHOD``;
* ``status``: the exact status code as a string (``"404"``), ``"500"`` when the app raised before
  answering, ``CLIENT_CLOSED`` when no response was started at all.

uvicorn drops whatever an app sends after the client left and never tells the app; only
``receive`` says so. A handler that sleeps never calls ``receive``: something else has to.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry
from starlette.applications import Starlette

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
    """Add the metrics middleware to ``app``; return the app's own registry."""
    # TODO: a CollectorRegistry and the four metrics on it; a pure ASGI middleware class that finds
    # the route template before calling the app, watches receive for http.disconnect, and counts in
    # a finally; app.add_middleware(YourMiddleware, ...); return the registry.
    raise NotImplementedError("exercise 08.3: write instrument()")
