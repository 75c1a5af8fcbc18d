"""X-Request-ID → outbox → Kafka header → the consumer's log record, and hostile request ids refused
with 400 problem+json (reference/messaging/http.py)."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from kafka import KafkaProducer
from sqlalchemy import Engine, text

from reference.messaging import outbox
from reference.messaging.events import Event
from reference.messaging.http import create_app
from reference.messaging.kafka import Processor, header, make_consumer, read_topic


@pytest.fixture
def db(pg_engine: Engine) -> Engine:
    with pg_engine.begin() as conn:
        outbox.create_tables(conn)
    return pg_engine


def test_request_id_travels_to_the_consumers_log(
    db: Engine,
    bootstrap: str,
    kafka_topic: Callable[..., str],
    producer: KafkaProducer,
    group: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    topic, dlq = kafka_topic(), kafka_topic()
    client = TestClient(create_app(db, topic))
    response = client.post(
        "/orders", json={"id": "order-1", "total": 30}, headers={"X-Request-ID": "req-abc"}
    )
    assert response.status_code == 201
    assert response.headers["X-Request-ID"] == "req-abc"
    assert outbox.relay_all(db, producer) == 1
    (record,) = read_topic(bootstrap, topic)
    assert header(record, "correlation-id") == "req-abc"
    handled: list[Event] = []
    processor = Processor(
        make_consumer(bootstrap, group, topic), producer, dlq, handled.append, print
    )
    with caplog.at_level(logging.INFO, logger="reference.messaging.kafka"):
        processor.run_until_caught_up()
    processor.close()
    assert [e.correlation_id for e in handled] == ["req-abc"]
    assert [
        getattr(r, "correlation_id", None) for r in caplog.records if r.msg == "handled %s"
    ] == ["req-abc"]


def test_missing_request_id_gets_one(db: Engine, kafka_topic: Callable[..., str]) -> None:
    client = TestClient(create_app(db, kafka_topic()))
    response = client.post("/orders", json={"id": "order-1", "total": 30})
    assert response.status_code == 201
    with db.connect() as conn:
        stored = conn.execute(text("SELECT event->>'correlation_id' FROM outbox")).scalar()
    assert stored == response.headers["X-Request-ID"]


@pytest.mark.parametrize(
    "request_id",
    [b"x" * 201, b"a\nforged log line", b"nul\x00", b"tab\there", "\u00e9".encode("latin-1")],
)
def test_unusable_request_id_is_a_400_problem_and_writes_nothing(
    db: Engine, kafka_topic: Callable[..., str], request_id: bytes
) -> None:
    client = TestClient(create_app(db, kafka_topic()))
    response = client.post(
        "/orders", json={"id": "order-1", "total": 30}, headers=[(b"X-Request-ID", request_id)]
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    with db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM orders")).scalar() == 0


def test_duplicate_order_is_a_409_problem(db: Engine, kafka_topic: Callable[..., str]) -> None:
    client = TestClient(create_app(db, kafka_topic()))
    assert client.post("/orders", json={"id": "order-1", "total": 30}).status_code == 201
    response = client.post("/orders", json={"id": "order-1", "total": 99})
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
