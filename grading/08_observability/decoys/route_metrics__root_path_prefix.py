"""Decoy for 08.3: the matched route's path after the app ran, prefixed with scope['root_path'] — right for /api/users/{user_id}, but root_path is the prefix as this request spelled it: under /shops/{shop_id}/items every shop id is a new series. Caught by test_prefixes_are_templates_at_every_depth."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
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


def _route_of(routes: Sequence[BaseRoute], scope: Scope, prefix: str = "") -> str | None:
    fallback = None  # the path matched but not the method: Starlette answers 405 with this route
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
            "http_requests", "Requests by exact status", [*names, "status"], registry=self.registry
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
        labels = [self.metrics.service, method, UNMATCHED]
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
            route = scope.get("route")
            if route is not None and not isinstance(route, Mount):
                # the mounts' prefixes, as this request spelled them
                self.metrics.in_progress.labels(*labels).dec()
                labels[2] = scope.get("root_path", "") + route.path
                self.metrics.in_progress.labels(*labels).inc()
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


def instrument(app: Starlette, service: str) -> CollectorRegistry:
    metrics = _Metrics(service)
    app.add_middleware(_Middleware, metrics=metrics, routes=app.router.routes)
    return metrics.registry
