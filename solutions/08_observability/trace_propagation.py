"""Taught in notebooks/08_observability_request.ipynb §4.

Exercise 08.6: carry one trace across services — W3C Trace Context by hand.

A span travels from one service to the next in one header::

    traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01
                 version-trace id (32 hex)-parent span id (16 hex)-trace flags (2 hex)

The course's tracing middleware (:class:`reference.observability.tracing.TracingMiddleware`) makes
each request's server span the child of the span ``parse_traceparent`` returns; the services' HTTP
clients call ``inject_traceparent`` on every request they send. Write both:

``parse_traceparent(value)`` — the caller's span as an OpenTelemetry ``SpanContext``
(``is_remote=True``, the header's trace flags as ``TraceFlags``), or ``None`` when ``value`` is
``None`` or not a valid version-00 header: exactly 55 characters, four ``-``-separated fields of
2, 32, 16 and 2 *lowercase* hex digits, version ``00`` (``ff`` is forbidden; you may refuse any other
version), neither id all zeros. ``None`` makes the service start a new trace. Never raise: a client's
malformed header is no reason for a 500.

``inject_traceparent(request)`` — an httpx request hook (``httpx.Client(event_hooks={"request":
[inject_traceparent]})``): set ``request.headers["traceparent"]`` to the *current* span
(``get_current_span()``, the span of the request this service is serving) — not to what this service
received — with that span's own trace flags, so the callee becomes this service's child and an
unsampled trace stays unsampled. Outside any span (its context is not valid) send no
``traceparent`` at all.

Graded by real services: three uvicorn servers (front → middle → back) run the course's middleware
with your parser and call each other through your hook; their spans are read back from OpenSearch.
"""

from __future__ import annotations

import re

import httpx
from opentelemetry.trace import SpanContext, TraceFlags, get_current_span

__all__ = [
    "SpanContext",
    "TraceFlags",
    "get_current_span",
    "inject_traceparent",
    "parse_traceparent",
]


def parse_traceparent(value: str | None) -> SpanContext | None:
    """The remote parent in ``value``, or ``None`` (absent or malformed: start a new trace)."""
    if not isinstance(value, str) or len(value) != 55:
        return None
    match = re.fullmatch(r"00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})", value)
    if match is None:  # also refuses ff and every other version
        return None
    trace_id, span_id, flags = (int(field, 16) for field in match.groups())
    if trace_id == 0 or span_id == 0:
        return None
    return SpanContext(trace_id, span_id, is_remote=True, trace_flags=TraceFlags(flags))


def inject_traceparent(request: httpx.Request) -> None:
    """Put the current span into ``request``'s ``traceparent`` header (nothing outside a span)."""
    span_context = get_current_span().get_span_context()
    if not span_context.is_valid:
        return
    trace_id, span_id = span_context.trace_id, span_context.span_id
    flags = int(span_context.trace_flags)
    request.headers["traceparent"] = f"00-{trace_id:032x}-{span_id:016x}-{flags:02x}"
