"""Grading for exercise 05.1: publish an order event (exercises/05_messaging/publish_event.py).
Graded on what the broker holds afterwards."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from types import ModuleType

import pytest
from kafka import KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic

from course.testing.resources import unique_name
from reference.config import kafka_auth
from reference.messaging.kafka import header, make_producer, read_topic


@pytest.fixture
def lazy_producer(bootstrap: str) -> Iterator[KafkaProducer]:
    """A long linger: a send nobody waits for is still in the producer's buffer when the call returns."""
    p = make_producer(bootstrap, linger_ms=3000)
    yield p
    p.close()


def test_event_is_keyed_and_carries_the_request_id(
    exercise: ModuleType,
    bootstrap: str,
    kafka_topic: Callable[..., str],
    lazy_producer: KafkaProducer,
) -> None:
    """Once the call returns, the broker holds the record: its key is the order id, its
    correlation-id header the request id, its value the returned event's JSON envelope."""
    topic = kafka_topic()
    event = exercise.publish_order_event(
        lazy_producer, topic, "order-7", "order.created", {"total": 30}, "req-42"
    )
    records = read_topic(bootstrap, topic)
    assert len(records) == 1, f"{len(records)} records in the topic after one call returned"
    (record,) = records
    assert record.key == b"order-7", f"key is {record.key!r}"
    assert header(record, "correlation-id") == "req-42", (
        "the correlation-id header is not the request id"
    )
    body = json.loads(record.value)
    assert body["event_id"] == str(event.event_id)
    assert (body["type"], body["key"], body["correlation_id"], body["data"]) == (
        "order.created",
        "order-7",
        "req-42",
        {"total": 30},
    )


def test_two_sends_of_one_request_share_its_id(
    exercise: ModuleType, bootstrap: str, kafka_topic: Callable[..., str], producer: KafkaProducer
) -> None:
    """Both events caused by request req-9 carry req-9 — not a fresh id each."""
    topic = kafka_topic()
    for kind in ("order.created", "order.paid"):
        exercise.publish_order_event(producer, topic, "order-1", kind, {}, "req-9")
    assert [header(r, "correlation-id") for r in read_topic(bootstrap, topic)] == ["req-9", "req-9"]


def test_per_order_ordering_over_three_partitions(
    exercise: ModuleType, bootstrap: str, kafka_topic: Callable[..., str], producer: KafkaProducer
) -> None:
    """120 events of 6 orders over 3 partitions: each order's events on one partition, in order."""
    topic = kafka_topic(partitions=3)
    for seq in range(120):
        exercise.publish_order_event(
            producer, topic, f"order-{seq % 6}", "order.updated", {"seq": seq}, "r"
        )
    seqs: dict[str, list[int]] = {}
    parts: dict[str, set[int]] = {}
    for record in read_topic(bootstrap, topic):
        body = json.loads(record.value)
        seqs.setdefault(body["key"], []).append(body["data"]["seq"])
        parts.setdefault(body["key"], set()).add(record.partition)
    assert all(len(p) == 1 for p in parts.values()), (
        "one order's events landed on several partitions"
    )
    assert all(s == sorted(s) for s in seqs.values())


def test_broker_refusal_raises(
    exercise: ModuleType, bootstrap: str, producer: KafkaProducer
) -> None:
    """A topic whose max.message.bytes is 300 refuses a 1 KB event: the call must raise, not return
    as if it had been stored."""
    topic = unique_name("t")
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, **kafka_auth())
    admin.create_topics([NewTopic(topic, 1, 1, topic_configs={"max.message.bytes": "300"})])
    try:
        with pytest.raises(Exception) as caught:  # noqa: PT011 — any client error will do
            exercise.publish_order_event(
                producer, topic, "order-1", "order.created", {"note": "x" * 1000}, "r"
            )
        assert "TooLarge" in type(caught.value).__name__ or "too large" in str(caught.value).lower()
    finally:
        admin.delete_topics([topic])
        admin.close()


@pytest.mark.parametrize("request_id", ["", "x" * 201])
def test_invalid_request_id_is_refused_before_sending(
    exercise: ModuleType,
    bootstrap: str,
    kafka_topic: Callable[..., str],
    producer: KafkaProducer,
    request_id: str,
) -> None:
    """An empty or over-long request id is refused with ValueError and nothing is sent."""
    topic = kafka_topic()
    with pytest.raises(ValueError):  # noqa: PT011
        exercise.publish_order_event(producer, topic, "order-1", "order.created", {}, request_id)
    producer.flush()
    assert read_topic(bootstrap, topic) == []
