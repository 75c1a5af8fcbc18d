"""Grading for exercise 08.6: W3C trace propagation by hand
(exercises/08_observability/trace_propagation.py).

Graded by real services and the store: three uvicorn servers (front → middle → back) run the course's
tracing middleware with the learner's ``parse_traceparent`` and call each other through the learner's
``inject_traceparent``; their finished spans go through the log shipper into OpenSearch, and each
test reads the spans of one trace back from there — what an engineer on call would see."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace import TracerProvider

from course.testing.tracing import TracedChain

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"  # only ever sent malformed: never continued
PARENT = "00f067aa0ba902b7"
MALFORMED = {
    "version ff": f"ff-{TRACE}-{PARENT}-01",
    "zero trace id": f"00-{'0' * 32}-{PARENT}-01",
    "zero parent id": f"00-{TRACE}-{'0' * 16}-01",
    "trailing field": f"00-{TRACE}-{PARENT}-01-extra",
    "short trace id": f"00-{TRACE[:-1]}-{PARENT}-01",
    "uppercase": f"00-{TRACE.upper()}-{PARENT}-01",
    "not hex": f"00-{'z' * 32}-{PARENT}-01",
    "garbage": "garbage",
    "three fields": f"00-{TRACE}-{PARENT}",
    "oversized": f"00-{TRACE}-{PARENT}-01" + "0" * 4000,
}


def new_trace(zeros: int = 0) -> str:
    """A trace id no other test sends (the index is shared by the module's tests); ``zeros``
    leading zero digits, which a correct hook still sends (32 hex digits on the wire, always)."""
    return "0" * zeros + secrets.token_hex(16)[zeros:]


def traceparent(trace_id: str, flags: str = "01") -> dict[str, str]:
    return {"traceparent": f"00-{trace_id}-{PARENT}-{flags}"}


def chain_of(answer: httpx.Response, traced: TracedChain) -> list[Any]:
    assert answer.status_code == 200, f"front answered {answer.status_code}: {traced.last_error()}"
    hops: list[Any] = answer.json()
    return hops


def test_three_services_share_one_trace(traced: TracedChain) -> None:
    hops = chain_of(httpx.get(f"{traced.url()}/hop", timeout=10), traced)
    assert [hop["service"] for hop in hops] == ["front", "middle", "back"]
    trace_ids = {hop["trace_id"] for hop in hops}
    assert len(trace_ids) == 1, f"each hop started its own trace: {trace_ids}"
    (trace_id,) = trace_ids
    spans = traced.server_spans(trace_id)
    assert sorted(spans) == ["back", "front", "middle"], "the store lacks a service's span"


def test_each_hop_is_the_child_of_its_caller(traced: TracedChain) -> None:
    trace_id = new_trace()
    hops = chain_of(httpx.get(f"{traced.url()}/hop", headers=traceparent(trace_id)), traced)
    assert {hop["trace_id"] for hop in hops} == {trace_id}
    spans = traced.server_spans(trace_id)
    assert spans["front"]["parent_span_id"] == PARENT
    assert spans["middle"]["parent_span_id"] == spans["front"]["span_id"], (
        "middle's parent must be front's span (what front was doing when it called), "
        "not front's own caller"
    )
    assert spans["back"]["parent_span_id"] == spans["middle"]["span_id"]


def test_an_incoming_traceparent_is_continued(traced: TracedChain) -> None:
    """The front continues the caller's trace, and passes it on intact — a trace id with leading
    zeros too (it is 32 hex digits on the wire, always)."""
    for trace_id in (new_trace(), new_trace(zeros=20)):
        hops = chain_of(httpx.get(f"{traced.url()}/hop", headers=traceparent(trace_id)), traced)
        assert [hop["trace_id"] for hop in hops] == [trace_id] * 3, trace_id
        spans = traced.server_spans(trace_id)
        assert sorted(spans) == ["back", "front", "middle"]
        assert spans["front"]["parent_span_id"] == PARENT


def test_the_parser_refuses_what_w3c_refuses(exercise: Any) -> None:
    """The contract itself: ``None`` for every malformed value (some the SDK would also refuse
    downstream — an all-zero id makes it start a new trace anyway — but a parser that hands one on
    is wrong), and the caller's span, remote, with its flags, for a valid one."""
    for name, value in MALFORMED.items():
        assert exercise.parse_traceparent(value) is None, f"{name}: {value[:60]!r}"
    assert exercise.parse_traceparent(None) is None
    parsed = exercise.parse_traceparent(f"00-{TRACE}-{PARENT}-00")
    assert (parsed.trace_id, parsed.span_id) == (int(TRACE, 16), int(PARENT, 16))
    assert parsed.is_remote
    assert int(parsed.trace_flags) == 0


@pytest.mark.parametrize("value", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_traceparent_starts_a_new_trace(traced: TracedChain, value: str) -> None:
    answer = httpx.get(f"{traced.url()}/hop", headers={"traceparent": value}, timeout=10)
    assert answer.status_code == 200, (
        f"a malformed traceparent is no reason for a 500 ({traced.last_error()})"
    )
    hops = chain_of(answer, traced)
    (trace_id,) = {hop["trace_id"] for hop in hops}
    assert trace_id not in (TRACE, "0" * 32), f"{value[:60]!r} was continued, not refused"
    spans = traced.server_spans(trace_id)
    assert spans["front"]["parent_span_id"] is None, "a new trace's first span has no parent"
    assert spans["back"]["parent_span_id"] == spans["middle"]["span_id"]


def test_an_unsampled_trace_stays_unrecorded(traced: TracedChain) -> None:
    """Flags 00: the caller chose not to record this trace. It is still propagated (every hop knows
    its trace id, for the logs), but no service records a span of it."""
    unsampled = new_trace()
    hops = chain_of(httpx.get(f"{traced.url()}/hop", headers=traceparent(unsampled, "00")), traced)
    assert [hop["trace_id"] for hop in hops] == [unsampled] * 3
    # A sampled request afterwards: once its spans are in the store, the unsampled ones would be.
    marker = chain_of(httpx.get(f"{traced.url()}/hop", headers=traceparent(new_trace())), traced)
    assert len(traced.server_spans(marker[0]["trace_id"])) == 3
    recorded = sorted({doc["service"] for doc in traced.search(unsampled)})
    assert recorded == [], f"unsampled trace recorded by {recorded}: its flags were not passed on"


def test_outside_a_span_no_traceparent_is_sent(exercise: Any, traced: TracedChain) -> None:
    """A call made outside any request (a startup check, a cron job) carries no trace header —
    not an all-zero one, which the callee must refuse as malformed."""
    with httpx.Client(event_hooks={"request": [exercise.inject_traceparent]}) as http:
        assert http.get(f"{traced.url('back')}/headers").json() == {"traceparent": None}
        # Inside a span, that span is what the callee receives.
        tracer = TracerProvider().get_tracer("grading")
        with tracer.start_as_current_span("job") as span:
            context = span.get_span_context()
            received = http.get(f"{traced.url('back')}/headers").json()["traceparent"]
    flags = int(context.trace_flags)
    assert received == f"00-{context.trace_id:032x}-{context.span_id:016x}-{flags:02x}"


def test_a_failing_hop_is_still_in_the_trace(traced: TracedChain) -> None:
    """Errors travel the same path: back raises (500), middle and front fail after it, and all
    three error spans are one trace with the right parents."""
    trace_id = new_trace()
    answer = httpx.get(f"{traced.url()}/fail", headers=traceparent(trace_id), timeout=10)
    assert answer.status_code == 500
    spans = traced.server_spans(trace_id)
    assert sorted(spans) == ["back", "front", "middle"]
    assert {doc["span_status"] for doc in spans.values()} == {"error"}
    assert spans["back"]["parent_span_id"] == spans["middle"]["span_id"]
