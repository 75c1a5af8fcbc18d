"""Decoy for 02.7, built from the guide's lock: no fencing token reaches the database, so the
last writer wins — including a stalled holder whose lock expired. It must fail.

Caught by test_stalled_holder_cannot_overwrite.
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
        text("UPDATE accounts SET balance = :balance WHERE id = :id"),
        {"id": account_id, "balance": balance},
    )
    if result.rowcount == 0:
        raise LookupError(account_id)
    return True
