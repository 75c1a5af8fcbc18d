"""The chapter 08 demo: two services, one request, three kinds of evidence.

Pattern: the three pillars wired into every service the same way, so one request can be followed
through all of them by its ids. ``python -m reference.observability.demo`` serves

- **api** on 127.0.0.1:18120 — ``GET /api/profiles/{user_id}`` asks users for the user and answers
  a profile; ``/metrics`` for Prometheus (bearer token);
- **users** on 127.0.0.1:18121 — ``GET /users/{user_id}`` (404 as problem details for an unknown id,
  ``0`` fails on purpose: a 500 to find in the logs, the metrics and the trace).

Each service has, outermost first: :class:`~reference.observability.tracing.TracingMiddleware` (a
server span continuing the caller's ``traceparent``; its ids bound into every log line),
:class:`~reference.observability.request_id.RequestIdMiddleware` (``X-Request-ID``, an access line per
request), and chapter 08's route metrics (:func:`reference.observability.metrics.instrument`). Log
lines and finished spans both go through one :class:`~reference.observability.shipper.Shipper` into
the OpenSearch index ``logs-demo`` (``OPENSEARCH_URL``; ``course services up opensearch``), so a query
by ``request_id`` or ``trace_id`` returns both. api's ``/metrics`` wants the bearer token kept in
``.services/observability-demo/metrics-token`` (or ``$METRICS_TOKEN``): a Prometheus scrape job sends
it with ``authorization: {type: Bearer, credentials_file: …}``. With compose, Prometheus runs in a
container and reaches the demo through ``host.docker.internal``: start the demo with
``--host 0.0.0.0`` there. Try::

    curl -i http://127.0.0.1:18120/api/profiles/1

and look the ``X-Request-ID`` it answers up in the index. Taught in
``notebooks/08_observability_request.ipynb``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import signal
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, TextIO

import httpx
import uvicorn
from opensearchpy import OpenSearch
from opensearchpy.exceptions import OpenSearchException
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from structlog.typing import FilteringBoundLogger

from reference.api_design.graphql.background import BackgroundServer, serve_in_background
from reference.config import get_settings, state_dir
from reference.observability.logging import make_logger
from reference.observability.logstore import install_template
from reference.observability.metrics import HttpMetrics, instrument
from reference.observability.request_id import RequestIdMiddleware, outgoing_headers
from reference.observability.shipper import Shipper
from reference.observability.tracing import (
    LogStoreSpanExporter,
    Tracing,
    TracingMiddleware,
    TracingTransport,
)

API_PORT: Final = 18120
USERS_PORT: Final = 18121
INDEX: Final = "logs-demo"
TOKEN_FILE: Final = Path("observability-demo") / "metrics-token"
USERS: Final = {"1": "Ada Lovelace", "2": "Grace Hopper", "3": "Edsger Dijkstra"}
TIMEOUT_S: Final = 2.0  # api's budget for one call to users


def problem(status: int, title: str, detail: str) -> Response:
    return JSONResponse(
        {"type": "about:blank", "title": title, "status": status, "detail": detail},
        status_code=status,
        media_type="application/problem+json",
    )


@dataclass
class Service:
    """One demo service and what observes it."""

    name: str
    app: Starlette
    tracing: Tracing
    log: FilteringBoundLogger
    metrics: HttpMetrics


@dataclass
class Telemetry:
    """Where both services' logs and spans go: one shipper into one index."""

    client: OpenSearch
    index: str
    shipper: Shipper
    services: list[Service] = field(default_factory=list)

    def flush(self, timeout: float = 10.0) -> bool:
        """Everything ended so far is searchable: spans exported, the shipper drained, the index
        refreshed (OpenSearch makes new documents searchable once a second otherwise)."""
        for service in self.services:
            service.tracing.flush()
        flushed = self.shipper.flush(timeout)
        self.client.indices.refresh(index=self.index)
        return flushed

    def close(self) -> None:
        for service in self.services:
            service.tracing.shutdown()
        self.shipper.close()


def telemetry(client: OpenSearch, index: str = INDEX) -> Telemetry:
    """A shipper into ``index`` (which has the log mapping: :func:`main` installs a template)."""
    return Telemetry(client, index, Shipper(client, index, flush_interval=0.2))


def observe(
    app: Starlette,
    name: str,
    sink: Telemetry,
    *,
    token: str,
    batch: bool = True,
    stream: TextIO | None = None,
) -> Service:
    """Instrument ``app``: route metrics innermost, then request ids, tracing outermost (so the
    request-id middleware's access line carries the trace ids too)."""
    log = make_logger(name, sink=sink.shipper.submit, stream=stream)
    tracing = Tracing(name, [LogStoreSpanExporter(sink.shipper.submit)], batch=batch)
    metrics = instrument(app, name, token=token)
    app.add_middleware(RequestIdMiddleware, logger=log)
    app.add_middleware(TracingMiddleware, tracing=tracing)
    service = Service(name, app, tracing, log, metrics)
    sink.services.append(service)
    return service


def users_service(
    sink: Telemetry, *, token: str, batch: bool = True, stream: TextIO | None = None
) -> Service:
    async def get_user(request: Request) -> Response:
        user_id = request.path_params["user_id"]
        # An internal span: the lookup shows as its own bar under the request in the waterfall.
        with service.tracing.tracer.start_as_current_span("users.lookup") as span:
            span.set_attribute("user_id", user_id)
            await asyncio.sleep(0.002)  # the database this demo does not have
            if user_id == "0":
                service.log.error("user.lookup_failed", user_id=user_id, reason="deliberate")
                return problem(500, "Internal Server Error", "user 0 always fails (the demo)")
            name = USERS.get(user_id)
        if name is None:
            service.log.info("user.not_found", user_id=user_id)
            return problem(404, "Not Found", f"no user {user_id}")
        service.log.info("user.loaded", user_id=user_id)
        return JSONResponse({"id": user_id, "name": name})

    app = Starlette(routes=[Route("/users/{user_id}", get_user)])
    service = observe(app, "users", sink, token=token, batch=batch, stream=stream)
    return service


def api_service(
    sink: Telemetry,
    users_url: str,
    *,
    token: str,
    batch: bool = True,
    stream: TextIO | None = None,
) -> Service:
    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        transport = TracingTransport(service.tracing)
        async with httpx.AsyncClient(
            base_url=users_url, transport=transport, timeout=TIMEOUT_S
        ) as http:
            app.state.http = http
            yield

    async def profile(request: Request) -> Response:
        user_id = request.path_params["user_id"]
        service.log.info("profile.requested", user_id=user_id)
        http: httpx.AsyncClient = request.app.state.http
        try:
            # The request id travels as a header (B's outgoing_headers); the trace by the transport.
            answer = await http.get(f"/users/{user_id}", headers=outgoing_headers())
        except httpx.HTTPError as error:
            service.log.error("users.unreachable", error=type(error).__name__)
            return problem(503, "Service Unavailable", "the users service did not answer")
        if answer.status_code == 404:
            return problem(404, "Not Found", f"no user {user_id}")
        if answer.status_code != 200:
            service.log.error("users.failed", status=answer.status_code)
            return problem(502, "Bad Gateway", f"the users service answered {answer.status_code}")
        user: dict[str, Any] = answer.json()
        service.log.info("profile.served", user_id=user_id)
        return JSONResponse({"user": user, "greeting": f"Hello, {user['name']}"})

    app = Starlette(routes=[Route("/api/profiles/{user_id}", profile)], lifespan=lifespan)
    service = observe(app, "api", sink, token=token, batch=batch, stream=stream)
    return service


@dataclass
class RunningDemo:
    """Both services on free loopback ports, in this process (tests, the notebook)."""

    telemetry: Telemetry
    api: BackgroundServer
    users: BackgroundServer
    token: str

    def stop(self) -> None:
        self.api.stop()
        self.users.stop()
        self.telemetry.close()


def run_in_background(
    client: OpenSearch, index: str, *, token: str, stream: TextIO | None = None
) -> RunningDemo:
    """The demo on free ports, spans exported as they end (no batch delay to wait for);
    ``stream`` takes the JSON lines stdout would get (a notebook keeps its output for its own)."""
    sink = telemetry(client, index)
    users = serve_in_background(users_service(sink, token=token, batch=False, stream=stream).app)
    api = api_service(sink, users.url, token=token, batch=False, stream=stream)
    return RunningDemo(sink, serve_in_background(api.app), users, token)


def metrics_token() -> str:
    """``$METRICS_TOKEN``, else a random token kept (0600) under the state folder, where a Prometheus
    scrape job can read it (``credentials_file``) — a restart of either keeps them agreeing."""
    if token := os.environ.get("METRICS_TOKEN"):
        return token
    path = state_dir() / TOKEN_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(0o600)
        path.write_text(secrets.token_urlsafe(32))
    return path.read_text().strip()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m reference.observability.demo", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--index", default=INDEX, help="the OpenSearch index for logs and spans")
    parser.add_argument("--host", default="127.0.0.1", help="where to listen (compose: 0.0.0.0)")
    parser.add_argument("--api-port", type=int, default=API_PORT)
    parser.add_argument("--users-port", type=int, default=USERS_PORT)
    args = parser.parse_args(argv)
    opensearch_url = get_settings()["OPENSEARCH_URL"]
    client = OpenSearch(hosts=[opensearch_url], timeout=10)
    try:
        install_template(client, f"{args.index}-template", args.index)
    except OpenSearchException as error:
        print(f"OpenSearch at {opensearch_url} unusable ({error}): course services up opensearch")
        return 1
    sink = telemetry(client, args.index)
    token = metrics_token()
    users = users_service(sink, token=token)
    api = api_service(sink, f"http://127.0.0.1:{args.users_port}", token=token)
    servers = [
        uvicorn.Server(uvicorn.Config(service.app, host=args.host, port=port, log_level="warning"))
        for service, port in ((api, args.api_port), (users, args.users_port))
    ]
    print(f"api on {args.host}:{args.api_port}, users on {args.host}:{args.users_port}", end="")
    print(f"; logs and spans → {args.index}")
    print(f"curl -i http://127.0.0.1:{args.api_port}/api/profiles/1", flush=True)

    async def serve() -> None:
        await asyncio.gather(*(server.serve() for server in servers))

    def terminated(signum: int, _frame: object) -> None:
        # uvicorn shuts down gracefully on SIGTERM, then re-raises it to the handler it found: this
        # one, so the shipper's buffer is flushed below before the process ends as SIGTERM says.
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, terminated)
    try:
        asyncio.run(serve())
    finally:
        sink.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
