"""Grading for exercise 05.3: an effect that happens once (exercises/05_messaging/credit_once.py).
Graded on the database's state after deliveries, sequential and concurrent."""

from __future__ import annotations

import threading
from types import ModuleType

import pytest
from sqlalchemy import Engine, text

from reference.messaging.events import Event


@pytest.fixture
def db(exercise: ModuleType, pg_engine: Engine) -> Engine:
    with pg_engine.begin() as conn:
        exercise.create_tables(conn)
        conn.execute(text("INSERT INTO accounts VALUES ('acc-1', 0)"))
    return pg_engine


def credit(amount: int, account: str = "acc-1") -> Event:
    return Event(
        type="account.credited", key=account, correlation_id="req-1", data={"amount": amount}
    )


def balance(db: Engine, account: str = "acc-1") -> int:
    with db.connect() as conn:
        return int(
            conn.execute(
                text("SELECT balance FROM accounts WHERE id = :a"), {"a": account}
            ).scalar_one()
        )


def test_redelivery_changes_nothing(exercise: ModuleType, db: Engine) -> None:
    """The same event three times: credited once; True, then False, False."""
    event = credit(25)
    assert [exercise.credit_once(db, event) for _ in range(3)] == [True, False, False]
    assert balance(db) == 25


def test_distinct_events_all_apply(exercise: ModuleType, db: Engine) -> None:
    """Three different events of equal content are three credits (dedupe by event id, not content)."""
    assert [exercise.credit_once(db, credit(10)) for _ in range(3)] == [True, True, True]
    assert balance(db) == 30


def test_concurrent_duplicates_apply_once_without_errors(exercise: ModuleType, db: Engine) -> None:
    """8 threads deliver the same event at once (an UPDATE trigger slows the credit, widening any
    check-then-insert window): exactly one True, seven False, no exception, balance credited once."""
    with db.begin() as conn:
        conn.execute(
            text(
                "CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN PERFORM pg_sleep(0.3); RETURN NEW; END $$"
            )
        )
        conn.execute(
            text(
                "CREATE TRIGGER slow BEFORE UPDATE ON accounts FOR EACH ROW EXECUTE FUNCTION slow()"
            )
        )
    event = credit(25)
    start = threading.Barrier(8)
    results: list[object] = []

    def deliver() -> None:
        start.wait()
        try:
            results.append(exercise.credit_once(db, event))
        except Exception as error:  # noqa: BLE001 — reported below
            results.append(error)

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, f"a concurrent duplicate raised {type(errors[0]).__name__}: {errors[0]}"
    assert sorted(results, key=str) == [False] * 7 + [True]
    assert balance(db) == 25


def test_failed_effect_is_not_recorded(exercise: ModuleType, db: Engine) -> None:
    """For a missing account: LookupError and nothing recorded — once the account exists, the
    redelivery credits it."""
    event = credit(40, account="acc-2")
    with pytest.raises(LookupError):
        exercise.credit_once(db, event)
    with db.begin() as conn:
        conn.execute(text("INSERT INTO accounts VALUES ('acc-2', 0)"))
    assert exercise.credit_once(db, event) is True
    assert balance(db, "acc-2") == 40
