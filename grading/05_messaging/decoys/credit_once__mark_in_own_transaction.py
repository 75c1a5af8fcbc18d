"""Decoy for 05.3: the event id committed in a transaction of its own before the credit — a failed credit is never retried. Caught by test_failed_effect_is_not_recorded."""

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
        claimed = conn.execute(
            text("INSERT INTO processed_events (event_id) VALUES (:id) ON CONFLICT DO NOTHING"),
            {"id": event.event_id},
        ).rowcount
        if claimed == 0:
            return False
    with engine.begin() as conn:
        credited = conn.execute(
            text("UPDATE accounts SET balance = balance + :amount WHERE id = :id"),
            {"amount": event.data["amount"], "id": event.key},
        ).rowcount
        if credited == 0:
            raise LookupError(f"no account {event.key!r}")  # rolls the claim back with it
    return True
