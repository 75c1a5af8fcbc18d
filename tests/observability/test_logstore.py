"""The log store in the real OpenSearch: the template's keyword mapping, one request's trace across
two services (1,000 requests → 1,000 access documents), paging past 10 hits, exact id matching and
the volume aggregation the notebook plots."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator

import pytest
from opensearchpy import OpenSearch
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from course.testing.resources import unique_name
from reference.observability import logstore
from reference.observability.logging import make_logger
from reference.observability.request_id import RequestIdMiddleware, outgoing_headers
from reference.observability.shipper import Shipper


def _service(name: str, shipper: Shipper, downstream: TestClient | None = None) -> Starlette:
    log = make_logger(name, stream=io.StringIO(), sink=shipper)

    async def handle(request: Request) -> JSONResponse:
        log.info("handling", step=name)
        if downstream is not None:
            downstream.get("/work", headers=outgoing_headers())
            log.info("downstream answered")
        return JSONResponse({"ok": True})

    app = Starlette(routes=[Route("/work", handle)])
    app.add_middleware(RequestIdMiddleware, logger=log)
    return app


@pytest.fixture
def two_services(opensearch: OpenSearch, log_index: str) -> Iterator[tuple[TestClient, Shipper]]:
    shipper = Shipper(opensearch, log_index, batch_size=500)
    with (
        TestClient(_service("users", shipper)) as users,
        TestClient(_service("orders", shipper, downstream=users)) as orders,
    ):
        yield orders, shipper
    shipper.close()


def test_template_maps_the_ids_as_keywords(opensearch: OpenSearch) -> None:
    name = unique_name("logs").lower()
    logstore.install_template(opensearch, name, f"{name}-*")
    try:
        opensearch.index(index=f"{name}-1", body={"request_id": "a-b", "event": "x"})
        mapping = opensearch.indices.get_mapping(index=f"{name}-1")[f"{name}-1"]["mappings"]
        fields = mapping["properties"]
        for field in ("request_id", "trace_id", "service", "level"):
            assert fields[field]["type"] == "keyword"
        assert fields["timestamp"]["type"] == "date_nanos"
        assert mapping["dynamic"] == "false"
    finally:
        opensearch.indices.delete(index=f"{name}-*")
        opensearch.indices.delete_index_template(name=name)


def test_a_thousand_requests_become_a_thousand_access_documents(
    opensearch: OpenSearch, log_index: str
) -> None:
    shipper = Shipper(opensearch, log_index, batch_size=500)
    with TestClient(_service("users", shipper)) as users:
        ids = {users.get("/work").headers["X-Request-ID"] for _ in range(1000)}
    assert shipper.close(timeout=60)
    opensearch.indices.refresh(index=log_index)
    access = {"term": {"event.keyword": "http.request"}}
    assert opensearch.count(index=log_index, body={"query": access})["count"] == 1000
    body = {
        "size": 0,
        "query": access,
        "aggs": {"ids": {"terms": {"field": "request_id", "size": 2000}}},
    }
    buckets = opensearch.search(index=log_index, body=body)["aggregations"]["ids"]["buckets"]
    assert {b["key"] for b in buckets} == ids  # one access line per request, each its own id
    assert {b["doc_count"] for b in buckets} == {1}


def test_one_trace_across_two_services(
    opensearch: OpenSearch, log_index: str, two_services: tuple[TestClient, Shipper]
) -> None:
    orders, shipper = two_services
    ids = [orders.get("/work").headers["X-Request-ID"] for _ in range(20)]
    assert shipper.flush(timeout=60)
    opensearch.indices.refresh(index=log_index)
    assert opensearch.count(index=log_index)["count"] == 5 * 20
    for request_id in (ids[0], ids[10], ids[-1]):
        trace = logstore.trace(opensearch, log_index, request_id)
        assert [(line["service"], line["event"]) for line in trace] == [
            ("orders", "handling"),
            ("users", "handling"),
            ("users", "http.request"),
            ("orders", "downstream answered"),
            ("orders", "http.request"),
        ]
        assert {line["request_id"] for line in trace} == {request_id}


def test_a_long_trace_comes_back_whole_and_in_order(opensearch: OpenSearch, log_index: str) -> None:
    shipper = Shipper(opensearch, log_index)
    log = make_logger("batch", stream=io.StringIO(), sink=shipper).bind(request_id="job-1")
    other = make_logger("batch", stream=io.StringIO(), sink=shipper).bind(request_id="job-2")
    for n in range(2500):
        log.info("row", n=n)
        if n % 10 == 0:
            other.info("row", n=n)
    assert shipper.close(timeout=60)
    opensearch.indices.refresh(index=log_index)
    trace = logstore.trace(opensearch, log_index, "job-1", page_size=300)
    assert [line["n"] for line in trace] == list(range(2500))


def test_ids_sharing_pieces_do_not_leak_into_a_trace(
    opensearch: OpenSearch, log_index: str
) -> None:
    wanted = str(uuid.uuid4())
    head, *_, tail = wanted.split("-")
    lookalikes = [f"{head}-0000-4000-8000-{tail}", f"x-{wanted}", wanted.upper(), f"{wanted} "]
    shipper = Shipper(opensearch, log_index)
    for request_id in [wanted, *lookalikes]:
        shipper.submit(
            {"event": "e", "request_id": request_id, "timestamp": "2026-01-01T00:00:00Z"}
        )
    assert shipper.close(timeout=30)
    opensearch.indices.refresh(index=log_index)
    assert [line["request_id"] for line in logstore.trace(opensearch, log_index, wanted)] == [
        wanted
    ]


def test_volume_per_level_is_an_aggregation(opensearch: OpenSearch, log_index: str) -> None:
    shipper = Shipper(opensearch, log_index)
    log = make_logger("api", level="debug", stream=io.StringIO(), sink=shipper)
    for n in range(30):
        log.info("i", n=n)
        if n % 3 == 0:
            log.warning("w")
        if n % 10 == 0:
            log.error("e")
    assert shipper.close(timeout=30)
    opensearch.indices.refresh(index=log_index)
    volume = logstore.volume(opensearch, log_index, by="level", interval="1h")
    assert {level: sum(count for _, count in points) for level, points in volume.items()} == {
        "info": 30,
        "warning": 10,
        "error": 3,
    }
