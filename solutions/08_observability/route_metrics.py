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

import asyncio
import time
from collections.abc import Sequence

from prometheus_client import CollectorRegistry
from prometheus_client.metrics import Counter, Gauge, Histogram
from starlette.applications import Starlette
from starlette.routing import BaseRoute, Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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

    # The helpers live inside: the stub's shape is one function (course/harness/stubs.py).
    def _route_of(routes: Sequence[BaseRoute], scope: Scope, prefix: str = "") -> str | None:
        # the path matched but not the method: Starlette answers 405 with this route
        fallback = None
        for route in routes:
            match, child_scope = route.matches(scope)
            if match == Match.NONE:
                continue
            if isinstance(route, Mount):
                below = getattr(route.app, "routes", None)
                label = (
                    prefix + route.path + "/{path}"
                    if below is None
                    else _route_of(below, {**scope, **child_scope}, prefix + route.path)
                )
            else:
                path = getattr(route, "path", None)
                label = None if path is None else prefix + path
            if label is not None and match == Match.FULL:
                return label
            fallback = fallback or label
        return fallback

    class _Metrics:
        def __init__(self, service: str) -> None:
            self.service = service
            self.registry = CollectorRegistry()  # this app's own: a second app gets another
            names = ["service", "method", "route"]
            self.requests = Counter(
                "http_requests",
                "Requests by exact status",
                [*names, "status"],
                registry=self.registry,
            )
            self.duration = Histogram(
                "http_request_duration_seconds",
                "Request duration",
                names,
                buckets=DEFAULT_BUCKETS,
                registry=self.registry,
            )
            self.in_progress = Gauge(
                "http_requests_in_progress", "Requests in flight", names, registry=self.registry
            )
            self.aborted = Counter(
                "http_requests_aborted", "Requests the client left", names, registry=self.registry
            )

    class _Middleware:
        def __init__(self, app: ASGIApp, metrics: _Metrics, routes: Sequence[BaseRoute]) -> None:
            self.app = app
            self.metrics = metrics
            self.routes = routes

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                return await self.app(scope, receive, send)
            began = time.perf_counter()
            method = scope["method"] if scope["method"] in KNOWN_METHODS else OTHER_METHOD
            labels = [self.metrics.service, method, _route_of(self.routes, scope) or UNMATCHED]
            inbox: asyncio.Queue[Message] = asyncio.Queue(1)
            state = {"status": CLIENT_CLOSED, "finished": False, "left": False}

            async def listen() -> None:
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        state["left"] = not state["finished"]
                    await inbox.put(message)
                    if message["type"] == "http.disconnect":
                        return

            listener = asyncio.create_task(listen())

            async def app_receive() -> Message:
                if listener.done() and inbox.empty():
                    return {"type": "http.disconnect"}
                return await inbox.get()

            async def app_send(message: Message) -> None:
                if message["type"] == "http.response.start":
                    state["status"] = str(message["status"])
                if message["type"] == "http.response.body" and not message.get("more_body"):
                    state["finished"] = True
                await send(message)

            self.metrics.in_progress.labels(*labels).inc()
            cancelled = False
            try:
                await self.app(scope, app_receive, app_send)
            except asyncio.CancelledError:
                cancelled = True
                raise
            except Exception:
                if state["status"] == CLIENT_CLOSED:
                    state["status"] = "500"
                raise
            finally:
                listener.cancel()
                self.metrics.in_progress.labels(*labels).dec()
                self.metrics.duration.labels(*labels).observe(time.perf_counter() - began)
                self.metrics.requests.labels(*labels, state["status"]).inc()
                if cancelled or state["left"]:
                    self.metrics.aborted.labels(*labels).inc()

    metrics = _Metrics(service)
    app.add_middleware(_Middleware, metrics=metrics, routes=app.router.routes)
    return metrics.registry
