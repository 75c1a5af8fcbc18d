"""Decoy for 08.6: Passes on the traceparent it received, unchanged: the trace id survives, but the callee's parent is the caller's caller — the middle service vanishes from the call tree. Caught by test_each_hop_is_the_child_of_its_caller."""

from __future__ import annotations

import re
from contextvars import ContextVar

import httpx
from opentelemetry.trace import SpanContext, TraceFlags, get_current_span

RECEIVED: ContextVar[str | None] = ContextVar("received", default=None)

__all__ = [
    "SpanContext",
    "TraceFlags",
    "get_current_span",
    "inject_traceparent",
    "parse_traceparent",
]


def parse_traceparent(value: str | None) -> SpanContext | None:
    """The remote parent in ``value``, or ``None`` (absent or malformed: start a new trace)."""
    RECEIVED.set(value)
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
    received = RECEIVED.get()
    if received:
        request.headers["traceparent"] = received
