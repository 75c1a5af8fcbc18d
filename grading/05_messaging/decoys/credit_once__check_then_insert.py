"""Decoy for 05.3: SELECT the event id, credit, then INSERT it — two concurrent deliveries both pass the check; the second's INSERT then fails on the key. Caught by test_concurrent_duplicates_apply_once_without_errors."""

from __future__ import annotations

from sqlalchemy import Connection, Engine, text

from reference.messaging.events import Event


def create_tables(conn: Connection) -> None:
    """``accounts(id, balance)`` and ``processed_events(event_id PRIMARY KEY)``."""
    conn.execute(
        text("CREATE TABLE IF NOT EXISTS accounts (id text PRIMARY KEY, balance bigint NOT NULL)")
    )
    conn.execute(
        text(
            "CREATE TABLE IF NOT EXISTS processed_events ("
            " event_id uuid PRIMARY KEY, processed_at timestamptz NOT NULL DEFAULT now())"
        )
    )


def credit_once(engine: Engine, event: Event) -> bool:
    """Credit ``event.data["amount"]`` to account ``event.key`` unless this event id was applied."""
    with engine.begin() as conn:
        seen = conn.execute(
            text("SELECT 1 FROM processed_events WHERE event_id = :id"), {"id": event.event_id}
        ).first()
        if seen is not None:
            return False
        credited = conn.execute(
            text("UPDATE accounts SET balance = balance + :amount WHERE id = :id"),
            {"amount": event.data["amount"], "id": event.key},
        ).rowcount
        if credited == 0:
            raise LookupError(f"no account {event.key!r}")
        conn.execute(
            text("INSERT INTO processed_events (event_id) VALUES (:id)"), {"id": event.event_id}
        )
    return True
