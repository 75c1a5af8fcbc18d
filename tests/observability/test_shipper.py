"""The log shipper against the real OpenSearch: every event stored exactly once, across an outage
(a proxy in front of OpenSearch taken down and brought back), a bounded buffer whose overflow is
counted and said, refused documents counted, never an exception on the logging path."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from opensearchpy import OpenSearch

from course.testing.logs import OutageProxy, opensearch_client
from reference.observability.logging import make_logger
from reference.observability.shipper import Shipper


def _count(client: OpenSearch, index: str) -> int:
    client.indices.refresh(index=index)
    return int(client.count(index=index)["count"])


def _distinct_event_ids(client: OpenSearch, index: str) -> int:
    body = {"size": 0, "aggs": {"ids": {"cardinality": {"field": "event_id"}}}}
    return int(client.search(index=index, body=body)["aggregations"]["ids"]["value"])


@pytest.fixture
def proxied(outage_proxy: OutageProxy) -> Iterator[OpenSearch]:
    client = opensearch_client(outage_proxy.url)
    yield client
    client.close()


def test_a_thousand_events_become_a_thousand_documents(
    opensearch: OpenSearch, log_index: str
) -> None:
    shipper = Shipper(opensearch, log_index, batch_size=200)
    log = make_logger("users", stream=io.StringIO(), sink=shipper)
    for n in range(1000):
        log.info("event", n=n)
    assert shipper.close(timeout=30)
    assert (shipper.shipped, shipper.dropped, shipper.rejected) == (1000, 0, 0)
    assert _count(opensearch, log_index) == 1000
    assert _distinct_event_ids(opensearch, log_index) == 1000


def test_no_loss_across_an_outage(
    opensearch: OpenSearch, log_index: str, outage_proxy: OutageProxy, proxied: OpenSearch
) -> None:
    shipper = Shipper(proxied, log_index, batch_size=50, flush_interval=0.05, max_backoff=0.5)
    log = make_logger("orders", stream=io.StringIO(), sink=shipper)
    for n in range(300):
        log.info("before", n=n)
    assert shipper.flush(timeout=30)
    outage_proxy.down()
    for n in range(300):
        log.info("during", n=n)  # returns at once: no I/O on the logging path
    assert not shipper.flush(timeout=0.5)  # nothing gets through while OpenSearch is away
    assert shipper.retries > 0
    assert shipper.pending == 300
    outage_proxy.up()
    assert shipper.close(timeout=30)
    assert (shipper.shipped, shipper.dropped) == (600, 0)
    assert _count(opensearch, log_index) == 600
    assert _distinct_event_ids(opensearch, log_index) == 600


def test_a_full_buffer_drops_counts_and_says_so(
    log_index: str, outage_proxy: OutageProxy, proxied: OpenSearch, caplog: pytest.LogCaptureFixture
) -> None:
    outage_proxy.down()
    shipper = Shipper(proxied, log_index, max_buffer=100, batch_size=10, max_backoff=0.2)
    with caplog.at_level(logging.WARNING, logger="reference.observability.shipper"):
        for n in range(150):
            shipper.submit({"event": "x", "n": n})
    assert shipper.dropped == 50
    warnings = [r.getMessage() for r in caplog.records if "buffer full" in r.getMessage()]
    assert warnings == ["log shipper buffer full (100 events): dropping, 1 dropped so far"]
    assert not shipper.close(timeout=0.3)  # gave up: OpenSearch never came back
    assert shipper.dropped == 150
    assert shipper.shipped == 0


def test_refused_documents_are_counted_not_retried_forever(
    opensearch: OpenSearch, log_index: str, caplog: pytest.LogCaptureFixture
) -> None:
    shipper = Shipper(opensearch, log_index, flush_interval=0.05)
    shipper.submit({"event": "good", "timestamp": "2026-01-01T00:00:00Z"})
    shipper.submit({"event": "bad", "timestamp": "not a date"})  # date_nanos: 400 mapper error
    with caplog.at_level(logging.ERROR, logger="reference.observability.shipper"):
        assert shipper.close(timeout=30)
    assert (shipper.shipped, shipper.rejected, shipper.dropped) == (1, 1, 0)
    assert any("document refused" in r.getMessage() for r in caplog.records)
    assert _count(opensearch, log_index) == 1


def test_an_unserialisable_event_is_refused_alone(opensearch: OpenSearch, log_index: str) -> None:
    """A sink fed without the redactor (which makes every value JSON-safe) must not stall."""
    shipper = Shipper(opensearch, log_index, flush_interval=0.05)
    shipper.submit({"event": "good 1"})
    shipper.submit({"event": "bad", "value": object()})
    shipper.submit({"event": "good 2"})
    assert shipper.close(timeout=30)
    assert (shipper.shipped, shipper.rejected, shipper.dropped) == (2, 1, 0)
    assert _count(opensearch, log_index) == 2


def test_hostile_events_are_stored_bounded(opensearch: OpenSearch, log_index: str) -> None:
    shipper = Shipper(opensearch, log_index)
    out = io.StringIO()
    log = make_logger("api", stream=out, sink=shipper)
    deep: dict[str, object] = {}
    node = deep
    for _ in range(1000):
        node["d"] = {}
        node = node["d"]  # type: ignore[assignment]
    log.info("x" * 10_000_000, nul="a\x00b", deep=deep, odd={1: "one", (2,): "two"})
    log.info("many fields", **{f"field_{i}": i for i in range(5000)})
    assert shipper.close(timeout=30)
    assert (shipper.shipped, shipper.rejected) == (2, 0)
    opensearch.indices.refresh(index=log_index)
    hits = opensearch.search(index=log_index, body={"sort": [{"timestamp": "asc"}]})["hits"]["hits"]
    big, wide = (hit["_source"] for hit in hits)
    assert len(big["event"]) < 9000
    assert big["odd"] == {"1": "one", "(2,)": "two"}
    assert len(wide) < 120
    assert [json.loads(line)["event"][:11] for line in out.getvalue().splitlines()] == [
        "x" * 11,
        "many fields",
    ]
