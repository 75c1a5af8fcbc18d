"""Decoy for 08.6: The guide's services pass no trace on (its stack has logs and metrics, no tracing): the hook sends nothing, so every hop starts a trace of its own and no query joins them. Caught by test_three_services_share_one_trace."""

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
    return None  # nothing to propagate: each service traces alone
