"""Taught in notebooks/05_messaging_kafka.ipynb §4.

Exercise 05.3: an effect that happens once, however often the event is delivered.

Kafka and RabbitMQ deliver at least once: a consumer killed after its effect but before its commit
gets the same event again, and two consumers can hold the same event during a rebalance. The guide's
handlers just apply it again.

``credit_once`` adds ``event.data["amount"]`` to the balance of account ``event.key`` — once per
``event.event_id``. Record the event id in ``processed_events`` (created for you by
``create_tables``; its primary key is the event id) in the SAME transaction as the credit:

* first delivery → credit, record, return ``True``;
* any later delivery, also one racing the first from another thread → change nothing, return
  ``False`` (never raise);
* the account does not exist → raise ``LookupError`` and record nothing, so a redelivery after the
  account is created credits it.
"""

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
    # TODO: in one transaction, claim the event id with an INSERT that does nothing on conflict
    # (a concurrent duplicate waits for the first to commit), and only if it was claimed, credit.
    with engine.begin() as conn:
        claimed = conn.execute(
            text("INSERT INTO processed_events (event_id) VALUES (:id) ON CONFLICT DO NOTHING"),
            {"id": event.event_id},
        ).rowcount
        if claimed == 0:
            return False
        credited = conn.execute(
            text("UPDATE accounts SET balance = balance + :amount WHERE id = :id"),
            {"amount": event.data["amount"], "id": event.key},
        ).rowcount
        if credited == 0:
            raise LookupError(f"no account {event.key!r}")  # rolls the claim back with it
    return True
