"""Decoy for 08.6: Checks the shape but not the version: ff, which W3C Trace Context forbids, is continued as if it were 00. Caught by test_a_malformed_traceparent_starts_a_new_trace."""

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
    match = re.fullmatch(r"[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})", value)
    if match is None:
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
