"""Traced services for chapter 08's tracing tests and exercise 08.6's grading
(``tests/observability/test_tracing.py``, ``grading/08_observability/conftest.py``).

:func:`traced_chain` starts three real uvicorn services, front → middle → back, each with the course's
:class:`~reference.observability.tracing.TracingMiddleware` and a provider of its own, whose spans
go through the log shipper into an OpenSearch index; the parser of incoming ``traceparent`` headers and
the hook that injects outgoing ones are parameters (the reference's, or a learner's).
:meth:`TracedChain.spans` reads a trace's span documents back from the store once they have all
arrived (a server answers before its span ends, so the caller may be faster than the store).

:func:`trace_store` gives the OpenSearch client and a throwaway index for them; the ``traced``
fixture is exercise 08.6's chain (the ``exercise`` fixture's parser and hook).

Routes of every service: ``GET /hop`` (call the next service, answer every hop's view),
``GET /headers`` (the ``traceparent`` this service received, as JSON), ``GET /fail`` (call the next
service's ``/fail``, then raise: a 500 whose span must still be in the trace).
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from opensearchpy import OpenSearch
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from course.testing.fixtures import ensure_server
from course.testing.resources import unique_name
from reference.api_design.graphql.background import BackgroundServer, serve_in_background
from reference.config import get_settings
from reference.observability.logstore import create_index
from reference.observability.shipper import Shipper
from reference.observability.tracing import (
    SPAN_KIND,
    TRACEPARENT,
    LogStoreSpanExporter,
    ParseTraceparent,
    Tracing,
    TracingMiddleware,
    ids,
    inject_traceparent,
    parse_traceparent,
)

NAMES = ("front", "middle", "back")
Inject = Callable[[httpx.Request], None]


@dataclass
class TracedChain:
    client: OpenSearch
    index: str
    shipper: Shipper
    servers: dict[str, BackgroundServer] = field(default_factory=dict)
    tracings: dict[str, Tracing] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)  # what a service raised, newest last

    def last_error(self) -> str:
        """The newest exception a service raised (a learner's parser or hook, typically)."""
        return self.errors[-1] if self.errors else "no exception recorded"

    def url(self, name: str = "front") -> str:
        return self.servers[name].url

    def search(self, trace_id: str) -> list[dict[str, Any]]:
        self.shipper.flush(10)
        self.client.indices.refresh(index=self.index)
        body = {"size": 1000, "query": {"term": {"trace_id": trace_id}}}
        hits = self.client.search(index=self.index, body=body)["hits"]["hits"]
        return [hit["_source"] for hit in hits if hit["_source"].get("kind") == SPAN_KIND]

    def spans(self, trace_id: str, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        """The trace's span documents once at least ``count`` are in the store (or the timeout
        passed: then what is there, and the caller's assertion says what is missing)."""
        deadline = time.monotonic() + timeout
        while len(found := self.search(trace_id)) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return found

    def server_spans(self, trace_id: str, count: int = 3) -> dict[str, dict[str, Any]]:
        """The server span of each service in the trace, by service name."""
        return {
            doc["service"]: doc
            for doc in self.spans(trace_id, count)
            if doc["span_kind"] == "server"
        }


class ErrorRecorder:
    """Outermost ASGI layer: remembers what the app raised (then lets it be the 500 it is), so a
    grading message can say *why* a service answered 500."""

    def __init__(self, app: ASGIApp, errors: list[str], service: str) -> None:
        self.app, self.errors, self.service = app, errors, service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        except Exception as error:
            where = traceback.extract_tb(error.__traceback__)[-1]  # the innermost frame
            self.errors.append(
                f"{self.service}: {type(error).__name__}({error}) in {where.name}() "
                f"at {Path(where.filename).name}:{where.lineno}"
            )
            raise


def hop_app(
    tracing: Tracing,
    below: str | None,
    parse: ParseTraceparent,
    inject: Inject,
    errors: list[str] | None = None,
) -> Starlette:
    async def hook(request: httpx.Request) -> None:
        inject(request)

    async def call(path: str) -> httpx.Response:
        async with httpx.AsyncClient(event_hooks={"request": [hook]}, timeout=10) as http:
            return await http.get(f"{below}{path}")

    async def hop(_request: Request) -> Response:
        chain: list[Any] = [{"service": tracing.service, **ids()}]
        if below is not None:
            answer = await call("/hop")
            chain += answer.json() if answer.status_code == 200 else [answer.status_code]
        return JSONResponse(chain)

    async def headers(request: Request) -> Response:
        return JSONResponse({TRACEPARENT: request.headers.get(TRACEPARENT)})

    async def fail(_request: Request) -> Response:
        if below is not None:
            await call("/fail")
        raise RuntimeError(f"{tracing.service}: the deliberate failure")

    app = Starlette(routes=[Route("/hop", hop), Route("/headers", headers), Route("/fail", fail)])
    app.add_middleware(TracingMiddleware, tracing=tracing, parse=parse)
    if errors is not None:
        app.add_middleware(ErrorRecorder, errors=errors, service=tracing.service)
    return app


@contextmanager
def trace_store() -> Iterator[tuple[OpenSearch, str]]:
    """The course's OpenSearch (started if needed) and a fresh index with the log mapping, named
    with the run tag (``traces_<tag>_…``), deleted afterwards."""
    ensure_server("opensearch")
    client = OpenSearch(get_settings().url_for("opensearch"), timeout=10)
    index = unique_name("traces").lower()
    create_index(client, index)
    try:
        yield client, index
    finally:
        client.indices.delete(index=index, ignore_unavailable=True)
        client.close()


@contextmanager
def traced_chain(
    client: OpenSearch,
    index: str,
    *,
    parse: ParseTraceparent = parse_traceparent,
    inject: Inject = inject_traceparent,
) -> Iterator[TracedChain]:
    shipper = Shipper(client, index, flush_interval=0.05)
    chain = TracedChain(client, index, shipper)
    exporter = LogStoreSpanExporter(shipper.submit)
    below: str | None = None
    try:
        for name in reversed(NAMES):
            tracing = Tracing(name, [exporter], batch=False)
            chain.tracings[name] = tracing
            app = hop_app(tracing, below, parse, inject, chain.errors)
            chain.servers[name] = serve_in_background(app)
            below = chain.servers[name].url
        yield chain
    finally:
        for server in chain.servers.values():
            server.stop()
        for tracing in chain.tracings.values():
            tracing.shutdown()
        shipper.close(10)


@pytest.fixture(scope="module")
def traced(exercise: ModuleType) -> Iterator[TracedChain]:
    """Exercise 08.6's chain: the learner's parser in every middleware, their hook in every client."""
    with (
        trace_store() as (client, index),
        traced_chain(
            client, index, parse=exercise.parse_traceparent, inject=exercise.inject_traceparent
        ) as chain,
    ):
        yield chain
