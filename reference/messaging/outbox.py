"""The transactional outbox: the business row and its event in one PostgreSQL transaction, and a
relay that publishes what was committed (notebooks/05_messaging_outbox.ipynb).

The fix for the dual write of the guide's microservices diagram (``guide/messaging/dual_write.py``).
A rolled-back transaction leaves no outbox row, so nothing is published; a committed one is published
by the relay however the service dies afterwards. The relay locks its batch with
``FOR UPDATE SKIP LOCKED``, so relays run side by side without publishing a row twice, and marks the
rows in the transaction holding the lock, after the broker acked them. A relay killed between the ack
and the mark publishes its batch again: delivery is at least once, and consumers dedupe by event id
(:mod:`reference.messaging.effects`).
"""

from __future__ import annotations

from typing import Final

from kafka import KafkaProducer
from sqlalchemy import Connection, Engine, text

from reference.messaging.events import Event
from reference.messaging.kafka import CORRELATION_HEADER, SEND_TIMEOUT_S

DDL: Final = (
    """
    CREATE TABLE IF NOT EXISTS outbox (
        id bigserial PRIMARY KEY,
        event_id uuid NOT NULL UNIQUE,
        topic text NOT NULL,
        event jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        published_at timestamptz
    )
    """,
    # The relay's only query: the unpublished rows in order. A partial index stays as small as the backlog.
    "CREATE INDEX IF NOT EXISTS outbox_unpublished ON outbox (id) WHERE published_at IS NULL",
    "CREATE TABLE IF NOT EXISTS orders (id text PRIMARY KEY, total numeric NOT NULL)",
)


def create_tables(conn: Connection) -> None:
    for statement in DDL:
        conn.execute(text(statement))


def add_to_outbox(conn: Connection, topic: str, event: Event) -> None:
    """Record ``event`` for publishing, inside the caller's transaction."""
    event.to_bytes()  # refuse an oversized or NUL-carrying event now, while the caller can roll back
    conn.execute(
        text(
            "INSERT INTO outbox (event_id, topic, event) VALUES (:id, :topic, CAST(:event AS jsonb))"
        ),
        {"id": event.event_id, "topic": topic, "event": event.model_dump_json()},
    )


def place_order(
    engine: Engine, order_id: str, total: int, correlation_id: str, topic: str
) -> Event:
    """The order and its ``order.created`` event, committed together or not at all."""
    event = Event(
        type="order.created",
        key=order_id,
        correlation_id=correlation_id,
        data={"order_id": order_id, "total": total},
    )
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO orders (id, total) VALUES (:i, :t)"), {"i": order_id, "t": total}
        )
        add_to_outbox(conn, topic, event)
    return event


def relay_once(engine: Engine, producer: KafkaProducer, batch_size: int = 100) -> int:
    """Publish one batch of unpublished rows and mark them; returns how many were published."""
    with engine.begin() as conn:
        rows = conn.execute(
            text(
                "SELECT id, topic, event FROM outbox WHERE published_at IS NULL "
                "ORDER BY id LIMIT :n FOR UPDATE SKIP LOCKED"
            ),
            {"n": batch_size},
        ).all()
        futures = []
        for row in rows:
            event = Event.model_validate(row.event)
            futures.append(
                producer.send(
                    row.topic,
                    key=event.key.encode(),
                    value=event.to_bytes(),
                    headers=[(CORRELATION_HEADER, event.correlation_id.encode())],
                )
            )
        for future in futures:
            future.get(timeout=SEND_TIMEOUT_S)  # a failed send raises: the rows stay unpublished
        if rows:
            conn.execute(
                text("UPDATE outbox SET published_at = now() WHERE id = ANY(:ids)"),
                {"ids": [row.id for row in rows]},
            )
    return len(rows)


def relay_all(engine: Engine, producer: KafkaProducer, batch_size: int = 100) -> int:
    """Relay until the backlog is empty (a loop a real relay runs forever, with a pause)."""
    total = 0
    while published := relay_once(engine, producer, batch_size):
        total += published
    return total
