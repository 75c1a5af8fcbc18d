"""Decoy for 05.4: FOR UPDATE without SKIP LOCKED — correct, but a second relay waits for the first's rows instead of taking the next ones: relays do not scale out. Caught by test_two_relays_at_once_publish_each_row_once_without_waiting."""

from __future__ import annotations

from kafka import KafkaProducer
from sqlalchemy import Engine, text

from reference.messaging.events import Event


def relay_batch(engine: Engine, producer: KafkaProducer, batch_size: int = 100) -> int:
    """Publish and mark up to ``batch_size`` unpublished outbox rows; return how many."""
    with engine.begin() as conn:
        rows = conn.execute(
            text(
                "SELECT id, topic, event FROM outbox WHERE published_at IS NULL"
                " ORDER BY id LIMIT :n FOR UPDATE"
            ),
            {"n": batch_size},
        ).all()
        pending = []
        for row in rows:
            event = Event.model_validate(row.event)
            headers = [("correlation-id", event.correlation_id.encode())]
            pending.append(
                producer.send(
                    row.topic, key=event.key.encode(), value=event.to_bytes(), headers=headers
                )
            )
        for future in pending:
            future.get(timeout=30)
        for row in rows:
            conn.execute(
                text("UPDATE outbox SET published_at = now() WHERE id = :id"), {"id": row.id}
            )
    return len(rows)
