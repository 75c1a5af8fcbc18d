"""Grading for exercise 05.2: a consumer batch with a dead-letter topic and tombstones
(exercises/05_messaging/process_batch.py). Graded on handler calls, the dead-letter topic's records
and the group's committed offsets on the live broker."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from types import ModuleType

import pytest
from kafka import KafkaConsumer, KafkaProducer

from course.testing.resources import unique_name
from reference.messaging.events import MAX_EVENT_BYTES, Event
from reference.messaging.kafka import (
    PermanentError,
    committed_offsets,
    header,
    make_consumer,
    read_topic,
)


@pytest.fixture
def topics(kafka_topic: Callable[..., str]) -> tuple[str, str]:
    return kafka_topic(), kafka_topic()


@pytest.fixture
def group() -> str:
    return unique_name("g")


@pytest.fixture
def consumer(bootstrap: str, group: str, topics: tuple[str, str]) -> Iterator[KafkaConsumer]:
    c = make_consumer(bootstrap, group, topics[0])
    yield c
    c.close()


def event(n: int) -> bytes:
    return Event(type="order.created", key="order-1", correlation_id="r", data={"n": n}).to_bytes()


def send(producer: KafkaProducer, topic: str, values: list[bytes | None]) -> None:
    for value in values:
        producer.send(topic, key=b"order-1", value=value, headers=[("origin", b"test")])
    producer.flush()


def run_until(done: Callable[[], bool], step: Callable[[], object]) -> None:
    """Call ``step`` until ``done`` (the group join takes a few polls); 60 s at most."""
    deadline = time.monotonic() + 60
    while not done() and time.monotonic() < deadline:
        step()


def test_ok_poison_tombstone_ok(
    exercise: ModuleType,
    bootstrap: str,
    producer: KafkaProducer,
    consumer: KafkaConsumer,
    topics: tuple[str, str],
    group: str,
) -> None:
    """[ok, "not-json", tombstone, ok] → 2 handler calls, the delete handler gets 'order-1', the
    dead-letter topic holds "not-json" with its key, headers and origin (topic, partition 0, offset
    1, error), and the committed offset is 4."""
    topic, dlq = topics
    send(producer, topic, [event(1), b"not-json", None, event(2)])
    handled: list[Event] = []
    deleted: list[str] = []
    run_until(
        lambda: committed_offsets(bootstrap, group, topic) == {0: 4},
        lambda: exercise.process_batch(
            consumer, producer, dlq, handled.append, deleted.append, 500
        ),
    )
    assert [e.data["n"] for e in handled] == [1, 2]
    assert deleted == ["order-1"]
    dead = read_topic(bootstrap, dlq)
    assert len(dead) == 1, (
        f"{len(dead)} records in the dead-letter topic, expected the 1 poison message"
    )
    (record,) = dead
    assert (record.key, record.value, header(record, "origin")) == (b"order-1", b"not-json", "test")
    assert (
        header(record, "dlq.topic"),
        header(record, "dlq.partition"),
        header(record, "dlq.offset"),
    ) == (topic, "0", "1")
    assert header(record, "dlq.error"), "no dlq.error header: nobody will know why"
    assert committed_offsets(bootstrap, group, topic) == {0: 4}


def test_permanent_error_is_dead_lettered_with_its_reason(
    exercise: ModuleType,
    bootstrap: str,
    producer: KafkaProducer,
    consumer: KafkaConsumer,
    topics: tuple[str, str],
    group: str,
) -> None:
    """A handler raising PermanentError('negative total') on event 2 of 3: event 2 in the DLQ with
    that text in dlq.error, events 1 and 3 handled, committed offset 3."""
    topic, dlq = topics
    send(producer, topic, [event(1), event(2), event(3)])
    handled: list[int] = []

    def handle(e: Event) -> None:
        if e.data["n"] == 2:
            raise PermanentError("negative total")
        handled.append(int(str(e.data["n"])))

    run_until(
        lambda: committed_offsets(bootstrap, group, topic) == {0: 3},
        lambda: exercise.process_batch(consumer, producer, dlq, handle, print, 500),
    )
    assert handled == [1, 3]
    (record,) = read_topic(bootstrap, dlq)
    assert "negative total" in (header(record, "dlq.error") or "")


def test_a_bug_is_not_committed_and_is_read_again(
    exercise: ModuleType,
    bootstrap: str,
    producer: KafkaProducer,
    consumer: KafkaConsumer,
    topics: tuple[str, str],
    group: str,
) -> None:
    """A KeyError on event 2 of 3 propagates; the committed offset stays 1 (not 3: no commit before
    processing); once the bug is fixed the next calls handle 2 and 3 — nothing skipped, 1 not again."""
    topic, dlq = topics
    send(producer, topic, [event(1), event(2), event(3)])
    handled: list[int] = []
    broken = [True]

    def handle(e: Event) -> None:
        if e.data["n"] == 2 and broken[0]:
            raise KeyError("bug")
        handled.append(int(str(e.data["n"])))

    raised: list[BaseException] = []

    def step() -> None:
        try:
            exercise.process_batch(consumer, producer, dlq, handle, print, 500)
        except KeyError as error:
            raised.append(error)

    run_until(lambda: bool(raised), step)
    assert raised, "the handler's KeyError never came out of process_batch"
    assert committed_offsets(bootstrap, group, topic) == {0: 1}
    broken[0] = False
    run_until(lambda: committed_offsets(bootstrap, group, topic) == {0: 3}, step)
    assert handled == [1, 2, 3]
    assert read_topic(bootstrap, dlq) == []


@pytest.mark.parametrize(
    "raw",
    [
        b'{"a": "' + b"x" * MAX_EVENT_BYTES + b'"}',
        b'{"type": "order.created\x00"}',
        Event(type="order.created", key="k", correlation_id="r")
        .model_dump_json()
        .replace('"schema_version":1', '"schema_version":2')
        .encode(),
    ],
    ids=["oversized", "nul-byte", "schema-v2"],
)
def test_hostile_value_is_dead_lettered_not_fatal(
    exercise: ModuleType,
    bootstrap: str,
    producer: KafkaProducer,
    consumer: KafkaConsumer,
    topics: tuple[str, str],
    group: str,
    raw: bytes,
) -> None:
    """A hostile value is dead-lettered unchanged and the next event is handled."""
    topic, dlq = topics
    send(producer, topic, [raw, event(2)])
    handled: list[Event] = []
    run_until(
        lambda: committed_offsets(bootstrap, group, topic) == {0: 2},
        lambda: exercise.process_batch(consumer, producer, dlq, handled.append, print, 500),
    )
    assert [e.data["n"] for e in handled] == [2]
    assert [r.value for r in read_topic(bootstrap, dlq)] == [raw]
