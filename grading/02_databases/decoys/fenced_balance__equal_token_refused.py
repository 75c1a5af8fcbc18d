"""Decoy for 02.7: the fence compared strictly (``fence < :fence``). Stale holders are refused, but so
is the current holder's second write under its own lease, which then looks like a lost lock. It must
fail.

Caught by test_the_holder_writes_twice_under_one_lease.
"""

from __future__ import annotations

from sqlalchemy import Connection, text


def create_accounts(conn: Connection) -> None:
    conn.execute(
        text(
            "CREATE TABLE IF NOT EXISTS accounts ("
            " id text PRIMARY KEY, balance bigint NOT NULL, fence bigint NOT NULL DEFAULT 0)"
        )
    )


def fenced_set_balance(conn: Connection, account_id: str, balance: int, fence: int) -> bool:
    result = conn.execute(
        text(
            "UPDATE accounts SET balance = :balance, fence = :fence"
            " WHERE id = :id AND fence < :fence"
        ),
        {"id": account_id, "balance": balance, "fence": fence},
    )
    if result.rowcount == 1:
        return True
    exists = conn.execute(text("SELECT 1 FROM accounts WHERE id = :id"), {"id": account_id})
    if exists.first() is None:
        raise LookupError(f"account {account_id!r} does not exist")
    return False
