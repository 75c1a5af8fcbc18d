"""Grading for exercise 08.2: one request's trace across services from OpenSearch
(exercises/08_observability/log_query.py).

Graded against the real OpenSearch: an index with the dynamic mapping holding a 250-line trace (runs
of equal timestamps, stored shuffled), ids that share pieces with it and 3,000 other lines; the answer
is compared with the trace, and OpenSearch's own search counters say how many searches the hand-in
made. A second index is filled by two real services through the request-id middleware and the
shipper."""

from __future__ import annotations

import io
import math
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import pytest
from opensearchpy import OpenSearch, helpers
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from course.testing.resources import unique_name
from reference.observability.logging import make_logger
from reference.observability.request_id import RequestIdMiddleware, outgoing_headers
from reference.observability.shipper import Shipper

TRACE_LINES = 250
OTHER_LINES = 3000
WINDOW = 100  # the index's max_result_window, standing in for the default 10,000
START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _stamp(ms: int) -> str:
    return (
        (START + timedelta(milliseconds=ms))
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def _dynamic_index(client: OpenSearch) -> str:
    """An index with no mapping of ours: OpenSearch's dynamic mapping decides (text + .keyword)."""
    index = unique_name("logs").lower()
    settings = {"number_of_shards": 1, "number_of_replicas": 0, "max_result_window": WINDOW}
    client.indices.create(index=index, body={"settings": settings})
    return index


@dataclass
class Store:
    index: str
    request_id: str
    expected: list[dict[str, Any]]
    lookalikes: list[str]


@pytest.fixture(scope="module")
def store(opensearch: OpenSearch) -> Iterator[Store]:
    rng = random.Random(8)
    index = _dynamic_index(opensearch)
    wanted = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    head, _, _, _, tail = wanted.split("-")
    lookalikes = [
        f"{head}-0000-4000-8000-{tail}",  # shares two of the five pieces
        f"retry-{wanted}",
        wanted.upper(),
        f"{wanted} extra",
    ]
    expected: list[dict[str, Any]] = []
    ms, n, runs = 0, 0, [3, 7, 11, 1, 5, 2]  # runs of equal timestamps, aligned with no page size
    while n < TRACE_LINES:
        for _ in range(runs[ms % len(runs)]):
            if n == TRACE_LINES:
                break
            expected.append(
                {
                    "timestamp": _stamp(ms),
                    "level": "info",
                    "service": ("orders", "users", "payments")[n % 3],
                    "event": f"step {n}",
                    "request_id": wanted,
                    "event_id": f"{ms:08d}-{n:06d}",
                }
            )
            n += 1
        ms += 1
    others = [
        {
            "timestamp": _stamp(rng.randrange(ms)),
            "level": "info",
            "service": "orders",
            "event": f"other {i}",
            "request_id": lookalikes[i] if i < len(lookalikes) else str(uuid.uuid4()),
            "event_id": f"{i:08d}-other",
        }
        for i in range(OTHER_LINES)
    ]
    documents = expected + others
    rng.shuffle(documents)  # stored out of order: index order is no answer
    helpers.bulk(opensearch, ({"_index": index, "_source": doc} for doc in documents), refresh=True)
    yield Store(index, wanted, expected, lookalikes)
    opensearch.indices.delete(index=index, ignore_unavailable=True)


def _searches(client: OpenSearch, index: str) -> int:
    stats = client.indices.stats(index=index, metric="search")
    return int(stats["indices"][index]["primaries"]["search"]["query_total"])


def test_a_short_trace(exercise: ModuleType, opensearch: OpenSearch) -> None:
    index = _dynamic_index(opensearch)
    try:
        lines = [
            {"timestamp": _stamp(2), "request_id": "req-1", "event": "c", "event_id": "3"},
            {"timestamp": _stamp(0), "request_id": "req-1", "event": "a", "event_id": "1"},
            {"timestamp": _stamp(1), "request_id": "req-1", "event": "b", "event_id": "2"},
            {"timestamp": _stamp(1), "request_id": "req-2", "event": "x", "event_id": "4"},
        ]
        helpers.bulk(opensearch, ({"_index": index, "_source": d} for d in lines), refresh=True)
        found = exercise.trace(opensearch, index, "req-1")
        assert [line["event"] for line in found] == ["a", "b", "c"]
        assert found[0] == lines[1], "return each line's _source as it was stored"
        assert exercise.trace(opensearch, index, "req-404") == []
    finally:
        opensearch.indices.delete(index=index, ignore_unavailable=True)


def test_the_whole_long_trace_in_order(
    exercise: ModuleType, opensearch: OpenSearch, store: Store
) -> None:
    """250 lines: more than a search returns by default (10) and more than the index lets one
    search reach (100); stored shuffled, with runs of equal timestamps."""
    found = exercise.trace(opensearch, store.index, store.request_id)
    events = [line["event"] for line in found]
    assert len(found) == TRACE_LINES, f"{len(found)} lines of a {TRACE_LINES}-line trace"
    assert events == [line["event"] for line in store.expected], "not oldest first"


def test_equal_timestamps_are_neither_lost_nor_repeated(
    exercise: ModuleType, opensearch: OpenSearch, store: Store
) -> None:
    found = exercise.trace(opensearch, store.index, store.request_id)
    ids = [line["event_id"] for line in found]
    assert len(set(ids)) == len(ids), "a line came back twice"
    missing = {line["event_id"] for line in store.expected} - set(ids)
    assert not missing, f"{len(missing)} lines lost where a page ended inside equal timestamps"
    assert ids == sorted(ids), "equal timestamps must be ordered by event_id"


def test_lookalike_ids_do_not_leak(
    exercise: ModuleType, opensearch: OpenSearch, store: Store
) -> None:
    found = exercise.trace(opensearch, store.index, store.request_id)
    strangers = {line["request_id"] for line in found} - {store.request_id}
    assert not strangers, f"lines of other requests in the trace: {sorted(strangers)}"


def test_only_the_trace_is_fetched(
    exercise: ModuleType, opensearch: OpenSearch, store: Store
) -> None:
    """OpenSearch counts the searches: pages of the trace (even of 10 lines) are at most 27;
    walking all 3,250 lines is at least 33."""
    before = _searches(opensearch, store.index)
    found = exercise.trace(opensearch, store.index, store.request_id)
    made = _searches(opensearch, store.index) - before
    assert len(found) == TRACE_LINES
    budget = math.ceil(TRACE_LINES / 10) + 2
    assert made <= budget, (
        f"{made} searches for a {TRACE_LINES}-line trace: fetched the index, not the trace"
    )


@pytest.mark.parametrize(
    "hostile",
    ["*", "a OR b", 'req-1" OR request_id:*', "request_id:*", "(", "\\", "x" * 10_240, "\x00"],
    ids=["star", "or", "quote", "field", "paren", "backslash", "10kb", "nul"],
)
def test_a_request_id_is_data_not_syntax(
    exercise: ModuleType, opensearch: OpenSearch, store: Store, hostile: str
) -> None:
    assert exercise.trace(opensearch, store.index, hostile) == []


def _service(name: str, shipper: Shipper, downstream: TestClient | None = None) -> Starlette:
    log = make_logger(name, stream=io.StringIO(), sink=shipper)

    async def work(request: Request) -> JSONResponse:
        log.info("working", service_step=name)
        if downstream is not None:
            downstream.get("/work", headers=outgoing_headers())
            log.info("downstream answered")
        return JSONResponse({"ok": True})

    app = Starlette(routes=[Route("/work", work)])
    app.add_middleware(RequestIdMiddleware, logger=log)
    return app


def test_a_trace_across_two_real_services(exercise: ModuleType, opensearch: OpenSearch) -> None:
    """orders calls users with the request's id; both ship their lines through the real shipper."""
    index = _dynamic_index(opensearch)
    shipper = Shipper(opensearch, index)
    try:
        with (
            TestClient(_service("users", shipper)) as users,
            TestClient(_service("orders", shipper, downstream=users)) as orders,
        ):
            ids = [orders.get("/work").headers["X-Request-ID"] for _ in range(5)]
        assert shipper.close(timeout=30)
        opensearch.indices.refresh(index=index)
        found = exercise.trace(opensearch, index, ids[2])
        assert [(line["service"], line["event"]) for line in found] == [
            ("orders", "working"),
            ("users", "working"),
            ("users", "http.request"),
            ("orders", "downstream answered"),
            ("orders", "http.request"),
        ]
        assert {line["request_id"] for line in found} == {ids[2]}
    finally:
        shipper.close(timeout=5)
        opensearch.indices.delete(index=index, ignore_unavailable=True)
