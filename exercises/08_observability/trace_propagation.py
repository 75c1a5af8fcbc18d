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
    # TODO: check the length and the four fields (lowercase hex), refuse version ff and zero ids,
    # and build SpanContext(trace_id=int(...,16), span_id=..., is_remote=True, trace_flags=...).
    raise NotImplementedError


def inject_traceparent(request: httpx.Request) -> None:
    """Put the current span into ``request``'s ``traceparent`` header (nothing outside a span)."""
    # TODO: span_context = get_current_span().get_span_context(); if it is valid, format
    # 00-<trace id, 32 hex>-<span id, 16 hex>-<flags, 2 hex> into request.headers["traceparent"].
    raise NotImplementedError
