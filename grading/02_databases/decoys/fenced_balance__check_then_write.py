"""Decoy for 02.7: the fence checked in Python — SELECT the fence, compare, then UPDATE. Right one
writer at a time, but a racing writer reads the old fence before the newer token commits and then
overwrites it. Caught by the one-statement race test.

Caught by test_the_check_and_the_write_are_one_statement.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from reference.databases.bounds import BIGINT_MAX


def create_accounts(conn: Connection) -> None:
    conn.execute(
        text(
            "CREATE TABLE IF NOT EXISTS accounts ("
            " id text PRIMARY KEY, balance bigint NOT NULL, fence bigint NOT NULL DEFAULT 0)"
        )
    )


def fenced_set_balance(conn: Connection, account_id: str, balance: int, fence: int) -> bool:
    if not 1 <= fence <= BIGINT_MAX or not -BIGINT_MAX - 1 <= balance <= BIGINT_MAX:
        raise ValueError("fence must be 1…BIGINT_MAX and balance must fit in a bigint")
    if "\x00" in account_id:
        raise ValueError("account_id must not contain NUL characters")
    current = conn.execute(
        text("SELECT fence FROM accounts WHERE id = :id"), {"id": account_id}
    ).scalar()
    if current is None:
        raise LookupError(f"account {account_id!r} does not exist")
    if fence < current:
        return False
    conn.execute(
        text("UPDATE accounts SET balance = :balance, fence = :fence WHERE id = :id"),
        {"id": account_id, "balance": balance, "fence": fence},
    )
    return True
