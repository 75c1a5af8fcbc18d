"""Grading for exercise 02.7: the fenced write (exercises/02_databases/fenced_balance.py)."""

from __future__ import annotations

import threading
import time
from types import ModuleType

import pytest
import redis
from sqlalchemy import Engine, text

from reference.databases.redis import RedisLock


@pytest.fixture
def accounts(exercise: ModuleType, pg_engine: Engine) -> Engine:
    """The accounts table (made by create_accounts) with account "acc-1" at balance 100."""
    with pg_engine.begin() as conn:
        exercise.create_accounts(conn)
        conn.execute(text("INSERT INTO accounts (id, balance) VALUES ('acc-1', 100)"))
    return pg_engine


def read(engine: Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        row = conn.execute(text("SELECT balance, fence FROM accounts WHERE id = 'acc-1'")).one()
    return int(row.balance), int(row.fence)


def test_stalled_holder_cannot_overwrite(
    exercise: ModuleType, accounts: Engine, redis_client: redis.Redis, redis_prefix: str
) -> None:
    """A takes the lock (fence 1) and stalls past its TTL; B takes it (fence 2) and writes 250.
    When A wakes up its write of 999 must be refused (False) and the balance must stay 250."""
    lock = RedisLock(redis_client, "acc-1", ttl_ms=100, prefix=redis_prefix)
    a = lock.acquire()
    assert a is not None
    while lock.owner_token() is not None:  # A stalls until its lock expires
        time.sleep(0.01)
    b = lock.acquire()
    assert b is not None
    assert b.fence > a.fence
    with accounts.begin() as conn:
        assert exercise.fenced_set_balance(conn, "acc-1", 250, b.fence) is True
    with accounts.begin() as conn:
        assert exercise.fenced_set_balance(conn, "acc-1", 999, a.fence) is False
    assert read(accounts) == (250, b.fence)


def test_newer_and_equal_tokens_write_and_older_ones_do_not(
    exercise: ModuleType, accounts: Engine
) -> None:
    """Each newer token writes; the same token again is the current holder's next write under its
    lease and writes too; an older token is a stale holder and is refused (nothing changes)."""
    with accounts.begin() as conn:
        assert exercise.fenced_set_balance(conn, "acc-1", 110, 1) is True
        assert exercise.fenced_set_balance(conn, "acc-1", 120, 5) is True
        assert exercise.fenced_set_balance(conn, "acc-1", 140, 3) is False
    assert read(accounts) == (120, 5)


def test_the_holder_writes_twice_under_one_lease(
    exercise: ModuleType, accounts: Engine, redis_client: redis.Redis, redis_prefix: str
) -> None:
    """A holder that writes twice under one lease must see both writes accepted: refusing an equal
    token (``fence < :fence``) lets a holder write once per lease and makes its second write look
    like a lost lock. A stale holder is still refused after that."""
    lock = RedisLock(redis_client, "acc-1", ttl_ms=100, prefix=redis_prefix)
    a = lock.acquire()
    assert a is not None
    while lock.owner_token() is not None:  # A stalls until its lock expires
        time.sleep(0.01)
    b = lock.acquire()
    assert b is not None
    with accounts.begin() as conn:
        assert exercise.fenced_set_balance(conn, "acc-1", 150, b.fence) is True
    with accounts.begin() as conn:
        assert exercise.fenced_set_balance(conn, "acc-1", 175, b.fence) is True
    with accounts.begin() as conn:
        assert exercise.fenced_set_balance(conn, "acc-1", 999, a.fence) is False
    assert read(accounts) == (175, b.fence)


def test_unknown_account_is_an_error(exercise: ModuleType, accounts: Engine) -> None:
    """Writing to an account that does not exist is not a "stale" write: raise LookupError."""
    with accounts.begin() as conn, pytest.raises(LookupError):
        exercise.fenced_set_balance(conn, "no-such-account", 1, 1)


@pytest.mark.parametrize(
    ("account_id", "balance", "fence"),
    [("acc-1", 1, 2**63), ("acc-1", 2**63, 1), ("acc-1", -(2**63) - 1, 1), ("acc\x00-1", 1, 1)],
    ids=["fence-past-bigint", "balance-past-bigint", "balance-below-bigint", "nul-in-id"],
)
def test_values_the_table_cannot_hold_are_a_value_error(
    exercise: ModuleType, accounts: Engine, account_id: str, balance: int, fence: int
) -> None:
    """A fence or balance past bigint (2^63 - 1), or a NUL in the id, is a ValueError raised before
    the query (an API answers 422) — not psycopg's DataError from inside it (a 500) — and the
    account is unchanged."""
    with accounts.begin() as conn, pytest.raises(ValueError):  # noqa: PT011
        exercise.fenced_set_balance(conn, account_id, balance, fence)
    assert read(accounts) == (100, 0)


def wait_until_blocked(engine: Engine, pid: int, thread: threading.Thread) -> None:
    """Until the backend ``pid`` waits for a lock (or its thread has finished)."""
    deadline = time.monotonic() + 30
    with engine.connect() as watcher:
        while thread.is_alive():
            waiting = watcher.execute(
                text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :pid"),
                {"pid": pid},
            ).scalar()
            watcher.rollback()  # a fresh snapshot of pg_stat_activity each time
            if waiting == "Lock":
                return
            if time.monotonic() > deadline:
                pytest.fail("the second writer neither finished nor waited for the row lock")
            time.sleep(0.01)


def test_the_check_and_the_write_are_one_statement(exercise: ModuleType, accounts: Engine) -> None:
    """Two writers race: token 3 has written but not committed yet when token 2 tries. Token 2 must
    end up refused and the row must be token 3's. A check in Python (SELECT the fence, then UPDATE)
    reads the old committed fence, decides to write, waits for token 3's row lock and then
    overwrites token 3. The test commits token 3 only once token 2 is waiting for that lock."""
    outcome: list[bool] = []
    with accounts.connect() as first, accounts.connect() as second:
        pid = second.execute(text("SELECT pg_backend_pid()")).scalar_one()
        second.commit()
        tx1 = first.begin()
        assert (
            exercise.fenced_set_balance(first, "acc-1", 300, 3) is True
        )  # row locked, uncommitted

        def late_writer() -> None:
            with second.begin():
                outcome.append(exercise.fenced_set_balance(second, "acc-1", 200, 2))

        thread = threading.Thread(target=late_writer)
        thread.start()
        wait_until_blocked(accounts, pid, thread)
        tx1.commit()
        thread.join(timeout=30)
    assert outcome == [False]
    assert read(accounts) == (300, 3)
