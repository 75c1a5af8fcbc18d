"""Idempotent effects: a consumer's work happens once per event id, however often Kafka or RabbitMQ
delivers it (notebooks/05_messaging_kafka.ipynb §4).

Delivery is at least once: a consumer killed after its effect but before its offset commit gets the
same message again. The event id goes into ``processed_events`` (primary key) in the same PostgreSQL
transaction as the effect, so the redelivery finds it and does nothing. A concurrent duplicate
blocks on the unique index until the first commits, then inserts nothing — no check-then-insert race.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, Engine, text

from reference.messaging.events import Event

DDL = """
CREATE TABLE IF NOT EXISTS processed_events (
    event_id uuid PRIMARY KEY,
    processed_at timestamptz NOT NULL DEFAULT now()
)
"""


def create_processed_events(conn: Connection) -> None:
    conn.execute(text(DDL))


def apply_once(engine: Engine, event: Event, effect: Callable[[Connection, Event], object]) -> bool:
    """Run ``effect`` in the transaction that records ``event.event_id``; False if it already ran."""
    with engine.begin() as conn:
        claimed = conn.execute(
            text(
                "INSERT INTO processed_events (event_id) VALUES (:id) "
                "ON CONFLICT (event_id) DO NOTHING RETURNING event_id"
            ),
            {"id": event.event_id},
        ).first()
        if claimed is None:
            return False
        effect(conn, event)
    return True
