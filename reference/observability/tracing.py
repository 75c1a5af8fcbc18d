"""Distributed tracing with the OpenTelemetry SDK: one request followed across services.

Pattern: W3C Trace Context (``traceparent: 00-<trace id>-<parent span id>-<flags>``). Each service
continues the trace it is called with — its server span is the *child* of the caller's span — and
passes its own span on to whatever it calls, so every span of one request shares one trace id and
the parent links draw the call tree. Taught in ``notebooks/08_observability_request.ipynb``
(exercise 08.6 writes the propagation by hand).

- :class:`Tracing` — a ``TracerProvider`` per service, never the global one: a notebook that
  re-runs a cell, or a test that starts three services in one process, gets three independent
  providers instead of OpenTelemetry's "Overriding of current TracerProvider is not allowed";
- :class:`TracingMiddleware` — pure ASGI (no ``BaseHTTPMiddleware``: it would run the app in another
  task and lose the span's context): a SERVER span per request, continuing a valid incoming
  ``traceparent``. A malformed one (version ``ff``, all-zero ids, wrong length, garbage, 10 KB of
  it) starts a new trace — never a 500. The span's ids are bound into structlog's context, so every
  log line of the request carries ``trace_id`` and ``span_id`` (:mod:`reference.observability.logging`);
- :class:`TracingTransport` — an httpx transport that makes a CLIENT span per outgoing call and
  injects *its* ``traceparent`` (the callee's parent is the call, not the caller's incoming parent);
  :func:`inject_traceparent` is the bare event-hook form (no client span);
- :class:`LogStoreSpanExporter` — finished spans as documents into the log store (OpenSearch,
  through :mod:`reference.observability.shipper`), beside the log lines: one query by ``trace_id``
  or ``request_id`` returns both. It never raises into the request path (spans are exported from
  the batch processor's thread; a failed export is counted and dropped).

No collector runs here. In production the exporter would be OTLP to an OpenTelemetry Collector
(``otelcol-contrib``: batching, tail sampling, fan-out to Jaeger/Tempo/OpenSearch), but the
collector is a Go binary in neither Debian nor PyPI, and the OTLP exporter packages are not locked
for this course — writing spans into the store the logs already go to keeps one request's evidence
in one place, with nothing more to install.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx
import structlog
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.sdk.trace.sampling import ALWAYS_ON, ParentBased
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

TRACEPARENT = "traceparent"
REQUEST_ID_HEADER = b"x-request-id"  # reference.observability.request_id's header, as ASGI has it
TRACERESPONSE = "traceresponse"  # W3C Trace Context level 2: tells the caller which trace it was
MAX_TRACEPARENT = 512  # what OpenTelemetry's propagator accepts (room for future versions' fields)
SPAN_KIND = "span"  # the ``kind`` field that tells span documents from log lines in the store
PROPAGATOR = TraceContextTextMapPropagator()

ParseTraceparent = Callable[[str | None], SpanContext | None]


def parse_traceparent(value: str | None) -> SpanContext | None:
    """The remote parent in a ``traceparent`` header, or ``None`` when there is none or it is not
    valid W3C Trace Context (OpenTelemetry's propagator: 512-character cap, lowercase hex, version
    ``ff`` and all-zero ids refused, exactly 55 characters for version ``00``)."""
    if not value or len(value) > MAX_TRACEPARENT:  # refused before parsing (and without a warning)
        return None
    extracted = PROPAGATOR.extract({TRACEPARENT: value})
    span_context = trace.get_current_span(extracted).get_span_context()
    return span_context if span_context.is_valid else None


def format_traceparent(span_context: SpanContext) -> str:
    return (
        f"00-{trace.format_trace_id(span_context.trace_id)}-"
        f"{trace.format_span_id(span_context.span_id)}-{int(span_context.trace_flags):02x}"
    )


def ids(span: trace.Span | None = None) -> dict[str, str]:
    """``{"trace_id", "span_id"}`` of ``span`` (default: the current one) as lowercase hex, or ``{}``
    outside any span — the fields a log line carries."""
    span_context = (span or trace.get_current_span()).get_span_context()
    if not span_context.is_valid:
        return {}
    return {
        "trace_id": trace.format_trace_id(span_context.trace_id),
        "span_id": trace.format_span_id(span_context.span_id),
    }


class RequestIdProcessor(SpanProcessor):
    """Stamps every span started inside a request with its ``request_id`` (bound in structlog's
    context by the request-id middleware), internal spans included: a query by request id finds
    the whole trace, not just the spans the middlewares made."""

    def on_start(self, span: Span, parent_context: otel_context.Context | None = None) -> None:
        request_id = structlog.contextvars.get_contextvars().get("request_id")
        if request_id is not None:
            span.set_attribute("request_id", str(request_id))


class Tracing:
    """One service's tracer, on a provider of its own (``service.name`` = ``service``).

    ``batch=False`` exports each span as it ends (tests, notebooks: no waiting for a batch);
    the default batches in a background thread, as a service should. Sampling follows the caller
    (``ParentBased``): a trace the caller did not sample is not recorded here either.
    """

    def __init__(
        self, service: str, exporters: Iterable[SpanExporter] = (), *, batch: bool = True
    ) -> None:
        self.service = service
        self.provider = TracerProvider(
            resource=Resource.create({SERVICE_NAME: service}), sampler=ParentBased(ALWAYS_ON)
        )
        self.provider.add_span_processor(RequestIdProcessor())
        for exporter in exporters:
            processor = (
                BatchSpanProcessor(exporter, schedule_delay_millis=200)
                if batch
                else SimpleSpanProcessor(exporter)
            )
            self.provider.add_span_processor(processor)
        self.tracer = self.provider.get_tracer(__name__)

    def flush(self, timeout_millis: int = 5000) -> bool:
        return self.provider.force_flush(timeout_millis)

    def shutdown(self) -> None:
        self.provider.shutdown()


class TracingMiddleware:
    """A SERVER span around each HTTP request, continuing the caller's trace when it sent a valid
    ``traceparent``; its ids bound into structlog's context for the request's log lines.

    ``parse`` reads the header (exercise 08.6 plugs a hand-written one in here); whatever it
    raises is the app's 500 — this middleware does not hide a broken parser.
    """

    def __init__(
        self, app: ASGIApp, tracing: Tracing, *, parse: ParseTraceparent = parse_traceparent
    ) -> None:
        self.app = app
        self.tracing = tracing
        self.parse = parse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        remote = self.parse(headers.get(TRACEPARENT))
        # An empty Context, not the current one: a request never inherits whatever span happens to
        # be current in the server's task (a notebook cell's, a test's).
        parent = otel_context.Context()
        if remote is not None:
            parent = trace.set_span_in_context(trace.NonRecordingSpan(remote), parent)
        method = scope["method"]
        attributes: dict[str, str | int] = {
            "http.request.method": method,
            "url.path": scope["path"],
            "service": self.tracing.service,
        }
        with self.tracing.tracer.start_as_current_span(
            f"{method} {scope['path']}", context=parent, kind=SpanKind.SERVER, attributes=attributes
        ) as span:
            status = 500  # what the client sees if the app raises before answering

            async def send_traced(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                    for key, value in message.get("headers", []):
                        # The request-id middleware may sit inside this one: its answer names it.
                        if key.lower() == REQUEST_ID_HEADER:
                            span.set_attribute("request_id", value.decode("latin-1"))
                    if span.get_span_context().is_valid:
                        message.setdefault("headers", [])
                        message["headers"] = [
                            *message["headers"],
                            (
                                TRACERESPONSE.encode(),
                                format_traceparent(span.get_span_context()).encode(),
                            ),
                        ]
                await send(message)

            with structlog.contextvars.bound_contextvars(**ids(span)):
                try:
                    await self.app(scope, receive, send_traced)
                finally:
                    route = scope.get("route")
                    template = getattr(route, "path_format", None)
                    if template is not None:  # the route, not the raw path: names stay few
                        span.update_name(f"{method} {template}")
                        span.set_attribute("http.route", template)
                    span.set_attribute("http.response.status_code", status)
                    if status >= 500:
                        span.set_status(Status(StatusCode.ERROR, f"HTTP {status}"))


def inject_traceparent(request: httpx.Request) -> None:
    """httpx event hook: pass the *current* span on (no client span of its own). Outside any span
    nothing is sent — an all-zero ``traceparent`` would be a malformed header, not "no trace"."""
    PROPAGATOR.inject(request.headers)


async def ainject_traceparent(request: httpx.Request) -> None:
    """:func:`inject_traceparent` for ``httpx.AsyncClient`` (whose hooks are awaited)."""
    inject_traceparent(request)


class TracingTransport(httpx.AsyncBaseTransport):
    """Wraps an httpx transport: a CLIENT span per outgoing request, injected as its
    ``traceparent``, so the callee's server span is the child of the call (and the call the child of
    whatever span was current — the request being served)."""

    def __init__(self, tracing: Tracing, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self.tracing = tracing
        self.inner = inner or httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        attributes: dict[str, str | int] = {
            "http.request.method": request.method,
            "server.address": request.url.host,
            "server.port": request.url.port or 0,
            "url.path": request.url.path,
            "service": self.tracing.service,
        }
        with self.tracing.tracer.start_as_current_span(
            f"{request.method} {request.url.host}:{request.url.port}{request.url.path}",
            kind=SpanKind.CLIENT,
            attributes=attributes,
        ) as span:
            PROPAGATOR.inject(request.headers)
            response = await self.inner.handle_async_request(request)
            span.set_attribute("http.response.status_code", response.status_code)
            if response.status_code >= 500:
                span.set_status(Status(StatusCode.ERROR, f"HTTP {response.status_code}"))
            return response

    async def aclose(self) -> None:
        await self.inner.aclose()


def _iso(nanoseconds: int | None) -> str | None:
    if nanoseconds is None:
        return None
    return datetime.fromtimestamp(nanoseconds / 1e9, UTC).isoformat(timespec="microseconds")


def span_document(span: ReadableSpan) -> dict[str, Any]:
    """A finished span as a log-store document: the same ``trace_id``/``span_id``/``request_id``/
    ``service`` keyword fields the log lines have, plus ``kind: "span"`` and the timing."""
    span_context = span.get_span_context()
    assert span_context is not None  # a finished SDK span always has one
    attributes = dict(span.attributes or {})
    start, end = span.start_time or 0, span.end_time or span.start_time or 0
    document: dict[str, Any] = {
        "timestamp": _iso(span.start_time),
        "kind": SPAN_KIND,
        "event": span.name,
        "level": "error" if span.status.status_code is StatusCode.ERROR else "info",
        "service": str(span.resource.attributes.get(SERVICE_NAME, "unknown")),
        "trace_id": trace.format_trace_id(span_context.trace_id),
        "span_id": trace.format_span_id(span_context.span_id),
        "parent_span_id": (
            trace.format_span_id(span.parent.span_id) if span.parent is not None else None
        ),
        "span_kind": span.kind.name.lower(),
        "start": _iso(span.start_time),
        "end": _iso(span.end_time),
        "duration_ms": round((end - start) / 1e6, 3),
        "span_status": span.status.status_code.name.lower(),  # "status" is the HTTP one
        "attributes": {key: value for key, value in attributes.items() if key != "request_id"},
    }
    if "request_id" in attributes:
        document["request_id"] = str(attributes["request_id"])
    return document


Sink = Callable[[dict[str, Any]], None]


class LogStoreSpanExporter(SpanExporter):
    """Finished spans → documents → ``sink`` (the log shipper: :class:`reference.observability.
    shipper.Shipper` is one). An export that fails is counted in ``failed`` and reported as
    ``FAILURE`` to the SDK (which logs and drops the batch): tracing must never take a request
    down with it. ``force_flush`` flushes the sink too when it can (``sink.flush()``)."""

    def __init__(self, sink: Sink) -> None:
        self.sink = sink
        self.exported = 0
        self.failed = 0
        self.lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        try:
            for span in spans:
                self.sink(span_document(span))
        except Exception:  # noqa: BLE001 — any sink failure is an export failure, never the request's
            with self.lock:
                self.failed += len(spans)
            return SpanExportResult.FAILURE
        with self.lock:
            self.exported += len(spans)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        flush = getattr(self.sink, "flush", None)
        if callable(flush):
            try:
                flush()
            except Exception:  # noqa: BLE001 — flushing is best effort, as export is
                return False
        return True


def span_tree(documents: Iterable[Mapping[str, Any]]) -> list[tuple[int, Mapping[str, Any]]]:
    """Span documents of one trace as ``(depth, document)`` in call order (each span after its
    parent, siblings by start time) — the rows of a waterfall plot. A span whose parent is not among
    them (the caller's, outside this store) is a root."""
    spans = sorted(
        (doc for doc in documents if doc.get("kind") == SPAN_KIND), key=lambda d: d["start"]
    )
    known = {doc["span_id"] for doc in spans}
    children: dict[str | None, list[Mapping[str, Any]]] = {}
    for doc in spans:
        parent = doc.get("parent_span_id")
        children.setdefault(parent if parent in known else None, []).append(doc)
    rows: list[tuple[int, Mapping[str, Any]]] = []

    def walk(parent: str | None, depth: int) -> None:
        for doc in children.get(parent, []):
            rows.append((depth, doc))
            walk(doc["span_id"], depth + 1)

    walk(None, 0)
    return rows
