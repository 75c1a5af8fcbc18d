"""Tracing across real services: three uvicorn servers (front → middle → back) calling each other over
HTTP share one trace id, each server span is the child of its caller's client span, a malformed or
oversized ``traceparent`` starts a new trace instead of failing the request, and an exporter that
fails never fails a request."""

from __future__ import annotations

import contextlib
import itertools
import secrets
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import structlog
from opensearchpy import OpenSearch
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from course.testing.logs import OutageProxy
from course.testing.tracing import trace_store, traced_chain
from reference.api_design.graphql.background import BackgroundServer, serve_in_background
from reference.observability.tracing import (
    TRACERESPONSE,
    LogStoreSpanExporter,
    Tracing,
    TracingMiddleware,
    TracingTransport,
    ids,
    inject_traceparent,
    parse_traceparent,
    span_document,
    span_tree,
)

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = "00f067aa0ba902b7"
VALID = f"00-{TRACE}-{PARENT}-01"
MALFORMED = [
    f"ff-{TRACE}-{PARENT}-01",  # version ff is forbidden
    f"00-{'0' * 32}-{PARENT}-01",  # all-zero trace id
    f"00-{TRACE}-{'0' * 16}-01",  # all-zero parent id
    f"00-{TRACE}-{PARENT}-01-extra",  # version 00 is exactly 55 characters
    f"00-{TRACE[:-1]}-{PARENT}-01",  # a trace id one digit short
    f"00-{TRACE.upper()}-{PARENT}-01",  # uppercase hex
    "00-zz-yy-01",
    "garbage",
    "00-" + "a" * 10_000,  # oversized
]


def new_trace() -> str:
    return secrets.token_hex(16)


def test_parse_accepts_w3c_and_refuses_the_rest() -> None:
    span_context = parse_traceparent(VALID)
    assert span_context is not None
    assert (f"{span_context.trace_id:032x}", f"{span_context.span_id:016x}") == (TRACE, PARENT)
    assert span_context.is_remote
    assert span_context.trace_flags.sampled
    assert parse_traceparent(None) is None
    assert parse_traceparent("") is None
    for value in MALFORMED:
        assert parse_traceparent(value) is None, value


@dataclass
class Services:
    """front → middle → back, each a real uvicorn server with its own TracerProvider."""

    exporter: InMemorySpanExporter
    servers: dict[str, BackgroundServer] = field(default_factory=dict)
    tracings: dict[str, Tracing] = field(default_factory=dict)

    def url(self, name: str) -> str:
        return self.servers[name].url

    def spans(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())


def service(tracing: Tracing, downstream: str | None, *, fail: bool = False) -> Starlette:
    """``GET /hop/{n}``: log a line, call the next service (if any), answer the ids it saw."""
    lines: list[Mapping[str, Any]] = []

    async def hop(request: Request) -> Response:
        lines.append(dict(structlog.contextvars.get_contextvars()))
        below: Any = None
        if downstream is not None:
            async with httpx.AsyncClient(transport=TracingTransport(tracing), timeout=5) as http:
                answer = await http.get(f"{downstream}/hop/{request.path_params['n']}")
                below = answer.json() if answer.status_code == 200 else answer.status_code
        if fail:
            raise RuntimeError("deliberate failure below the tracing middleware")
        return JSONResponse({"service": tracing.service, "ids": ids(), "below": below})

    async def seen(_request: Request) -> Response:
        return JSONResponse(lines)

    app = Starlette(routes=[Route("/hop/{n}", hop), Route("/seen", seen)])
    app.add_middleware(TracingMiddleware, tracing=tracing)
    return app


@pytest.fixture(scope="module")
def services() -> Iterator[Services]:
    chain = Services(InMemorySpanExporter())
    below: str | None = None
    for name in ("back", "middle", "front"):
        tracing = Tracing(name, [chain.exporter], batch=False)
        chain.tracings[name] = tracing
        chain.servers[name] = serve_in_background(service(tracing, below))
        below = chain.servers[name].url
    yield chain
    for server in chain.servers.values():
        server.stop()
    for tracing in chain.tracings.values():
        tracing.shutdown()


def hops(answer: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    chain = []
    while isinstance(answer, Mapping):
        chain.append(answer)
        answer = answer["below"]
    return chain


def of_trace(spans: Sequence[ReadableSpan], trace_id: str) -> list[dict[str, Any]]:
    return [doc for doc in map(span_document, spans) if doc["trace_id"] == trace_id]


def settled(exporter: InMemorySpanExporter, trace_id: str, count: int) -> list[dict[str, Any]]:
    """The trace's span documents once ``count`` have ended: the response leaves a server before
    its span ends, so a client can read the store before the last span is in it."""
    deadline = time.monotonic() + 5
    while len(docs := of_trace(exporter.get_finished_spans(), trace_id)) < count:
        if time.monotonic() > deadline:
            break
        time.sleep(0.01)
    return docs


def test_three_services_share_one_trace_and_each_hop_is_the_caller_s_child(
    services: Services,
) -> None:
    answer = httpx.get(f"{services.url('front')}/hop/1", timeout=10)
    assert answer.status_code == 200
    chain = hops(answer.json())
    assert [hop["service"] for hop in chain] == ["front", "middle", "back"]
    trace_ids = {hop["ids"]["trace_id"] for hop in chain}
    assert len(trace_ids) == 1
    (trace_id,) = trace_ids
    # The caller learns its trace from the response (traceresponse), and it is the front's span.
    version, traced, span_id, flags = answer.headers[TRACERESPONSE].split("-")
    assert (version, traced, span_id) == ("00", trace_id, chain[0]["ids"]["span_id"])
    assert int(flags, 16) & 1  # sampled (0x02 is level 2's "random trace id" flag)

    rows = span_tree(settled(services.exporter, trace_id, 5))
    assert [(depth, doc["service"], doc["span_kind"]) for depth, doc in rows] == [
        (0, "front", "server"),
        (1, "front", "client"),
        (2, "middle", "server"),
        (3, "middle", "client"),
        (4, "back", "server"),
    ]
    docs = [doc for _depth, doc in rows]
    assert docs[0]["parent_span_id"] is None  # no traceparent came in: a root
    for parent, child in itertools.pairwise(docs):
        assert child["parent_span_id"] == parent["span_id"]
    assert [doc["event"] for doc in docs if doc["span_kind"] == "server"] == ["GET /hop/{n}"] * 3
    assert all(doc["span_status"] == "unset" for doc in docs)


def test_an_incoming_traceparent_is_continued(services: Services) -> None:
    answer = httpx.get(f"{services.url('front')}/hop/2", headers={"traceparent": VALID})
    chain = hops(answer.json())
    assert {hop["ids"]["trace_id"] for hop in chain} == {TRACE}
    (front,) = [
        doc
        for doc in settled(services.exporter, TRACE, 5)
        if doc["service"] == "front" and doc["span_kind"] == "server"
    ]
    assert front["parent_span_id"] == PARENT


@pytest.mark.parametrize("value", MALFORMED)
def test_a_malformed_traceparent_starts_a_new_trace_never_a_500(
    services: Services, value: str
) -> None:
    answer = httpx.get(f"{services.url('front')}/hop/3", headers={"traceparent": value})
    assert answer.status_code == 200
    chain = hops(answer.json())
    (trace_id,) = {hop["ids"]["trace_id"] for hop in chain}  # still one trace downstream
    assert trace_id not in (TRACE, "0" * 32)
    assert value.split("-")[1:2] != [trace_id]
    (front,) = [
        doc
        for doc in settled(services.exporter, trace_id, 5)
        if doc["service"] == "front" and doc["span_kind"] == "server"
    ]
    assert front["parent_span_id"] is None


def test_an_unsampled_trace_is_propagated_but_not_recorded(services: Services) -> None:
    unsampled = f"00-{'1' * 32}-{PARENT}-00"
    answer = httpx.get(f"{services.url('front')}/hop/4", headers={"traceparent": unsampled})
    assert {hop["ids"]["trace_id"] for hop in hops(answer.json())} == {"1" * 32}
    later = httpx.get(f"{services.url('front')}/hop/4")  # once its five spans are in, so would be
    settled(services.exporter, hops(later.json())[0]["ids"]["trace_id"], 5)
    assert of_trace(services.spans(), "1" * 32) == []


def test_log_context_carries_the_span_ids_during_the_request(services: Services) -> None:
    answer = httpx.get(f"{services.url('front')}/hop/5", headers={"traceparent": VALID})
    front_ids = hops(answer.json())[0]["ids"]
    seen = httpx.get(f"{services.url('front')}/seen").json()
    assert seen[-1] == front_ids  # bound by the middleware, seen by the handler's log lines


def test_a_failing_app_is_an_error_span_and_the_500_still_answers() -> None:
    exporter = InMemorySpanExporter()
    tracing = Tracing("failing", [exporter], batch=False)
    server = serve_in_background(service(tracing, None, fail=True))
    try:
        answer = httpx.get(f"{server.url}/hop/1", headers={"traceparent": VALID})
    finally:
        server.stop()
    assert answer.status_code == 500
    (span,) = settled(exporter, TRACE, 1)
    assert span["trace_id"] == TRACE
    assert span["span_status"] == "error"
    assert span["level"] == "error"
    assert span["attributes"]["http.response.status_code"] == 500
    assert span["attributes"]["http.route"] == "/hop/{n}"


class BrokenSink:
    """A sink whose store is gone: every ship raises (as a client does when the store refuses)."""

    def __call__(self, document: dict[str, Any]) -> None:
        raise ConnectionError("the log store refused the span")


def test_an_exporter_that_fails_never_fails_a_request() -> None:
    exporter = LogStoreSpanExporter(BrokenSink())
    for batch in (False, True):
        tracing = Tracing("unlucky", [exporter], batch=batch)
        server = serve_in_background(service(tracing, None))
        try:
            answers = [httpx.get(f"{server.url}/hop/{n}") for n in range(3)]
        finally:
            server.stop()
            tracing.shutdown()  # the batch processor exports what it holds
        assert [answer.status_code for answer in answers] == [200] * 3
    assert exporter.failed == 6
    assert exporter.exported == 0


class FlakyExporter(SpanExporter):
    """An exporter that raises outright (not every exporter is as careful as ours)."""

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        raise RuntimeError("exporter bug")


def test_even_a_raising_exporter_does_not_reach_the_client() -> None:
    tracing = Tracing("unlucky", [FlakyExporter()], batch=False)
    server = serve_in_background(service(tracing, None))
    try:
        assert httpx.get(f"{server.url}/hop/1").status_code == 200
    finally:
        server.stop()


def test_the_bare_hook_injects_the_current_span_or_nothing() -> None:
    exporter = InMemorySpanExporter()
    tracing = Tracing("caller", [exporter], batch=False)
    outside = httpx.Request("GET", "http://127.0.0.1:1/")
    inject_traceparent(outside)
    assert "traceparent" not in outside.headers  # no span: no header, never an all-zero one
    with tracing.tracer.start_as_current_span("work") as span:
        inside = httpx.Request("GET", "http://127.0.0.1:1/")
        inject_traceparent(inside)
    assert inside.headers["traceparent"].startswith(
        f"00-{ids(span)['trace_id']}-{ids(span)['span_id']}-0"
    )


def test_providers_are_per_service_not_global() -> None:
    one, two = Tracing("one"), Tracing("two")
    with one.tracer.start_as_current_span("a") as a, two.tracer.start_as_current_span("b") as b:
        assert a.resource.attributes["service.name"] == "one"  # type: ignore[attr-defined]
        assert b.resource.attributes["service.name"] == "two"  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def store() -> Iterator[tuple[OpenSearch, str]]:
    with trace_store() as found:
        yield found


def test_spans_land_in_the_log_store_beside_the_logs(store: tuple[OpenSearch, str]) -> None:
    """Through the log shipper into OpenSearch: one term query by trace id returns every service's
    span, parent links intact, and the failing path's error spans too."""
    client, index = store
    with traced_chain(client, index) as chain:
        hops = httpx.get(f"{chain.url()}/hop", headers={"traceparent": VALID}).json()
        assert [hop["trace_id"] for hop in hops] == [TRACE] * 3
        spans = chain.server_spans(TRACE)
        assert spans["front"]["parent_span_id"] == PARENT
        assert spans["middle"]["parent_span_id"] == spans["front"]["span_id"]
        assert spans["back"]["parent_span_id"] == spans["middle"]["span_id"]
        other = f"00-{'2' * 32}-{PARENT}-01"
        assert httpx.get(f"{chain.url()}/fail", headers={"traceparent": other}).status_code == 500
        failed = chain.server_spans("2" * 32)
        assert {doc["span_status"] for doc in failed.values()} == {"error"}
        assert {doc["level"] for doc in failed.values()} == {"error"}


def test_spans_wait_out_a_log_store_outage_and_requests_never_notice(
    store: tuple[OpenSearch, str], outage_proxy: OutageProxy
) -> None:
    """OpenSearch unreachable (connections refused and reset, as in a restart): the services keep
    answering 200 and their spans wait in the shipper's bounded buffer; once it is back, every
    span arrives — none dropped."""
    _direct, index = store
    proxied = OpenSearch(outage_proxy.url, timeout=5)
    with contextlib.closing(proxied), traced_chain(proxied, index) as chain:
        outage_proxy.down()
        trace_ids = [new_trace() for _ in range(5)]
        for trace_id in trace_ids:
            answer = httpx.get(
                f"{chain.url()}/hop", headers={"traceparent": f"00-{trace_id}-{PARENT}-01"}
            )
            assert answer.status_code == 200
        assert chain.shipper.shipped == 0
        outage_proxy.up()
        for trace_id in trace_ids:
            assert len(chain.server_spans(trace_id)) == 3
        assert chain.shipper.dropped == 0
