"""Grading for exercise 05.4: the outbox relay (exercises/05_messaging/outbox_relay.py). Graded on
the records in the topic and the outbox rows, with two relays really running at once."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
from kafka import KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic
from sqlalchemy import Engine, text

from course.testing.resources import unique_name
from reference.config import kafka_auth
from reference.messaging import outbox
from reference.messaging.kafka import header, make_producer, read_topic


@pytest.fixture
def db(pg_engine: Engine) -> Engine:
    with pg_engine.begin() as conn:
        outbox.create_tables(conn)
    return pg_engine


def unpublished(db: Engine) -> int:
    with db.connect() as conn:
        return int(
            conn.execute(
                text("SELECT count(*) FROM outbox WHERE published_at IS NULL")
            ).scalar_one()
        )


class PausingProducer:
    """A real producer that, on its first send, signals ``paused`` and waits (10 s at most) for
    ``release`` — so a second relay runs while this one holds its batch. ``saw_release`` says
    whether the release came (False: the other relay was stuck waiting for this one)."""

    def __init__(self, real: KafkaProducer) -> None:
        self.real = real
        self.paused = threading.Event()
        self.release = threading.Event()
        self.saw_release: bool | None = None

    def send(self, *args: Any, **kwargs: Any) -> Any:
        if self.saw_release is None:
            self.paused.set()
            self.saw_release = self.release.wait(timeout=10)
        return self.real.send(*args, **kwargs)

    def flush(self, *args: Any, **kwargs: Any) -> None:
        self.real.flush(*args, **kwargs)


def test_publishes_marks_and_keeps_order(
    exercise: ModuleType,
    db: Engine,
    bootstrap: str,
    kafka_topic: Callable[..., str],
    producer: KafkaProducer,
) -> None:
    """30 events of 3 orders: one call publishes all 30 (key, value, correlation header), marks them,
    each order's events in commit order; a second call finds nothing to do."""
    topic = kafka_topic(partitions=3)
    placed = [outbox.place_order(db, f"order-{n}", n, f"req-{n}", topic) for n in range(30)]
    assert exercise.relay_batch(db, producer, 100) == 30
    assert exercise.relay_batch(db, producer, 100) == 0
    assert unpublished(db) == 0
    records = read_topic(bootstrap, topic)
    by_id = {json.loads(r.value)["event_id"]: r for r in records}
    assert set(by_id) == {str(e.event_id) for e in placed}
    for e in placed:
        r = by_id[str(e.event_id)]
        assert r.key == e.key.encode()
        assert header(r, "correlation-id") == e.correlation_id


def test_batch_size_is_respected(
    exercise: ModuleType, db: Engine, kafka_topic: Callable[..., str], producer: KafkaProducer
) -> None:
    """With 25 pending and batch_size 10: 10, 10, 5, 0."""
    topic = kafka_topic()
    for n in range(25):
        outbox.place_order(db, f"order-{n}", n, "r", topic)
    assert [exercise.relay_batch(db, producer, 10) for _ in range(4)] == [10, 10, 5, 0]


def test_two_relays_at_once_publish_each_row_once_without_waiting(
    exercise: ModuleType,
    db: Engine,
    bootstrap: str,
    kafka_topic: Callable[..., str],
    producer: KafkaProducer,
) -> None:
    """Relay A takes a batch of 10 of 20 rows and pauses before publishing; relay B runs meanwhile.
    B must neither publish A's rows (each event exactly once in the topic) nor wait for A's lock
    (it takes the other 10 and returns while A is still paused)."""
    topic = kafka_topic()
    for n in range(20):
        outbox.place_order(db, f"order-{n}", n, "r", topic)
    a_producer = PausingProducer(make_producer(bootstrap))
    a_result: list[object] = []

    def relay_a() -> None:
        try:
            a_result.append(exercise.relay_batch(db, a_producer, 10))
        except Exception as error:  # noqa: BLE001 — reported below
            a_result.append(error)
            a_producer.paused.set()

    a = threading.Thread(target=relay_a)
    a.start()
    assert a_producer.paused.wait(timeout=30), "relay A never sent anything"
    assert not a_result, f"relay A failed: {a_result}"
    b_result = exercise.relay_batch(db, producer, 10)
    a_producer.release.set()
    a.join()
    a_producer.real.close()
    assert a_producer.saw_release, "relay B waited for relay A's rows instead of skipping them"
    ids = [json.loads(r.value)["event_id"] for r in read_topic(bootstrap, topic)]
    assert len(ids) == len(set(ids)), f"{len(ids) - len(set(ids))} events published twice"
    assert (a_result, b_result, len(ids), unpublished(db)) == ([10], 10, 20, 0)


def test_refused_send_raises_and_leaves_the_batch_unpublished(
    exercise: ModuleType, db: Engine, bootstrap: str, producer: KafkaProducer
) -> None:
    """The broker refuses a record (its topic's max.message.bytes is 600): relay_batch raises and
    every row of the batch stays unpublished, to be retried."""
    topic = unique_name("t")
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, **kafka_auth())
    admin.create_topics([NewTopic(topic, 1, 1, topic_configs={"max.message.bytes": "600"})])
    try:
        outbox.place_order(db, "order-0", 0, "r", topic)
        assert exercise.relay_batch(db, producer, 10) == 1  # a small event goes through
        outbox.place_order(db, "order-1", 1, "r", topic)
        with db.begin() as conn:
            conn.execute(
                text(
                    "UPDATE outbox SET event = jsonb_set(event, '{data,note}', to_jsonb(repeat('x', 1000)))"
                    " WHERE published_at IS NULL"
                )
            )
        with pytest.raises(Exception):  # noqa: B017, PT011 — any client error will do
            exercise.relay_batch(db, producer, 10)
        assert unpublished(db) == 1, "the refused event was marked published: it is lost"
    finally:
        admin.delete_topics([topic])
        admin.close()
