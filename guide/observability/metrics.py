"""The guide's prom-client metrics (로깅 및 모니터링 › Prometheus 메트릭), ported faithfully to
prometheus-client and FastAPI — defects included. The fix is :mod:`reference.observability.metrics`;
``notebooks/08_observability_metrics.ipynb`` runs both.

What maps to what:

- ``promClient.collectDefaultMetrics`` and the metrics created at module import → prometheus-client's
  module-level default ``REGISTRY`` (it already carries the process/platform/GC collectors; the
  ``app_`` prefix has no prometheus-client equivalent and changes nothing below).
- ``labelNames: ['method', 'path', 'status']``, ``buckets: [0.01, 0.1, 0.5, 1, 5]`` → the same.
- ``req.route?.path || req.path`` → the matched route's own ``path`` (Starlette sets
  ``scope["route"]``, the innermost route, like Express's ``req.route``) or else the request path.
  Express's ``app.use('/users', usersRouter)`` is Starlette's ``app.mount``: the route inside knows
  only ``/{id}``, as ``req.route.path`` is ``/:id``.
- ``res.on('finish', …)`` → counted when the last body chunk is handed to a client that is still
  there. Node emits ``finish`` only then (``close``, not ``finish``, when the socket went first).
- ``router.get('/metrics', …)`` → a public route serving ``generate_latest(REGISTRY)``.

The defects (guide-defects.md §8.2), each shown live by ``tests/observability/test_metrics_guide.py``:

1. ``req.path`` as a label: every 404 a scanner sends is a new series (unbounded cardinality).
2. ``req.route.path`` lacks the mount prefix: ``/users/{id}`` and ``/orders/{id}`` are one series.
3. No ``finish`` on an abort: a client that gives up is never counted, its latency never observed.
4. ``/metrics`` is public: anyone reads route names, traffic and error rates.
5. Buckets ``[0.01, 0.1, 0.5, 1, 5]``: a p99 between 10 ms and 100 ms is interpolated across a
   90 ms wide bucket.
6. Module-level metrics on the default registry: building a second app in one process (tests,
   reload) registers them again — unless, as here, they are created once at import and shared by
   every app, which mixes two apps' requests in one series.
"""

from __future__ import annotations

import asyncio
import time

from fastapi import FastAPI, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

http_requests_total = Counter(
    "http_requests_total", "Total HTTP requests", ["method", "path", "status"]
)
http_request_duration = Histogram(
    "http_request_duration_seconds",
    "Request duration",
    ["method", "path"],
    buckets=[0.01, 0.1, 0.5, 1, 5],
)


class MetricsMiddleware:
    """``metricsMiddleware``: start a timer, and on ``finish`` count and observe."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 0
        socket_closed = asyncio.Event()

        async def watch_socket() -> None:
            # Node's http server sees the socket close; an ASGI app learns it from http.disconnect.
            while (await receive())["type"] != "http.disconnect":
                pass
            socket_closed.set()

        watcher = asyncio.ensure_future(watch_socket())

        def on_finish() -> None:
            duration = time.perf_counter() - start
            route = scope.get("route")
            path = getattr(route, "path", None) or scope["path"]  # req.route?.path || req.path
            http_requests_total.labels(scope["method"], path, str(status)).inc()
            http_request_duration.labels(scope["method"], path).observe(duration)

        async def res(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            last = message["type"] == "http.response.body" and not message.get("more_body", False)
            if last and socket_closed.is_set():
                return  # 'close' is emitted instead of 'finish': nothing is recorded
            await send(message)
            if last:
                on_finish()

        async def req() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        try:
            # The guide's routes read no body: the app gets an empty one while the watcher holds
            # the real receive, as Express hands the socket to the middleware chain.
            await self.app(scope, req, res)
        finally:
            watcher.cancel()


async def metrics(request: Request) -> Response:
    """``router.get('/metrics', …)``: the default registry, to whoever asks."""
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


def create_app() -> FastAPI:
    """The guide's service shape: the middleware on the app, routers mounted under prefixes."""
    users = FastAPI()
    orders = FastAPI()

    @users.get("/{id}")
    async def get_user(id: str) -> dict[str, str]:
        return {"id": id}

    @orders.get("/{id}")
    async def get_order(id: str) -> dict[str, str]:
        return {"id": id}

    app = FastAPI()

    @app.get("/slow")
    async def slow(seconds: float = 0.1) -> dict[str, float]:
        await asyncio.sleep(seconds)
        return {"slept": seconds}

    app.add_api_route("/metrics", metrics, methods=["GET"])
    app.mount("/users", users)
    app.mount("/orders", orders)
    app.add_middleware(MetricsMiddleware)
    return app
