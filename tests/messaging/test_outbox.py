"""The transactional outbox: a rollback publishes nothing, two relays never publish a row twice, and a
relay killed between the broker's ack and its mark republishes — applied once by the consumer."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from kafka import KafkaProducer
from sqlalchemy import Engine, text

from reference.config import REPO_ROOT
from reference.messaging import effects, outbox
from reference.messaging.events import Event
from reference.messaging.kafka import make_producer, read_topic

WORKER = Path(__file__).with_name("killed_worker.py")


@pytest.fixture
def db(pg_engine: Engine) -> Engine:
    with pg_engine.begin() as conn:
        outbox.create_tables(conn)
    return pg_engine


def unpublished(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT count(*) FROM outbox WHERE published_at IS NULL")
            ).scalar_one()
        )


def test_rolled_back_transaction_publishes_nothing(
    db: Engine, bootstrap: str, kafka_topic: Callable[..., str], producer: KafkaProducer
) -> None:
    topic = kafka_topic()
    outbox.place_order(db, "order-1", 10, "req-1", topic)
    with pytest.raises(Exception, match="duplicate key"):
        outbox.place_order(
            db, "order-1", 99, "req-2", topic
        )  # the order insert fails: all rolled back
    assert outbox.relay_all(db, producer) == 1
    assert [json.loads(r.value)["correlation_id"] for r in read_topic(bootstrap, topic)] == [
        "req-1"
    ]


def test_oversized_event_is_refused_inside_the_transaction(
    db: Engine, kafka_topic: Callable[..., str]
) -> None:
    topic = kafka_topic()
    big = Event(type="order.created", key="o", correlation_id="r", data={"blob": "x" * 70_000})
    with pytest.raises(ValueError, match="byte limit"), db.begin() as conn:
        outbox.add_to_outbox(conn, topic, big)
    assert unpublished(db) == 0


def test_two_relays_never_publish_a_row_twice(
    db: Engine, bootstrap: str, kafka_topic: Callable[..., str]
) -> None:
    topic = kafka_topic(partitions=3)
    for n in range(300):
        outbox.place_order(db, f"order-{n}", n, f"req-{n}", topic)
    counts: list[int] = []

    def relay() -> None:
        producer = make_producer(bootstrap)
        counts.append(outbox.relay_all(db, producer, batch_size=10))
        producer.close()

    threads = [threading.Thread(target=relay) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ids = [json.loads(r.value)["event_id"] for r in read_topic(bootstrap, topic)]
    assert sum(counts) == 300
    assert len(ids) == 300
    assert len(set(ids)) == 300
    assert unpublished(db) == 0


def test_relay_killed_after_publishing_republishes_and_the_consumer_applies_once(
    db: Engine,
    pg_url: str,
    bootstrap: str,
    kafka_topic: Callable[..., str],
    producer: KafkaProducer,
) -> None:
    topic = kafka_topic()
    for n in range(5):
        outbox.place_order(db, f"order-{n}", n, f"req-{n}", topic)
    run = subprocess.run(
        [sys.executable, str(WORKER), "relay", pg_url],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == -9, run.stderr
    assert len(read_topic(bootstrap, topic)) == 5  # published …
    assert unpublished(db) == 5  # … but not marked: the lock died with the relay
    assert outbox.relay_all(db, producer) == 5
    records = read_topic(bootstrap, topic)
    assert len(records) == 10  # at least once: every event twice
    with db.begin() as conn:
        effects.create_processed_events(conn)
        conn.execute(text("CREATE TABLE shipped (order_id text NOT NULL)"))
    applied = [
        effects.apply_once(
            db,
            Event.model_validate_json(r.value),
            lambda conn, e: conn.execute(text("INSERT INTO shipped VALUES (:o)"), {"o": e.key}),
        )
        for r in records
    ]
    assert applied.count(True) == 5
    with db.connect() as conn:
        assert conn.execute(
            text("SELECT count(DISTINCT order_id), count(*) FROM shipped")
        ).one() == (5, 5)
