"""Taught in notebooks/02_databases_redis.ipynb §2.

Exercise 02.7: a write that a stale lock holder cannot make.

Workers take a Redis lock (``reference.databases.redis.RedisLock``) before they recompute an account's
balance. A lock with a TTL can have two holders: worker A stalls past the TTL, worker B takes the
lock and writes, then A wakes up and writes its stale balance over B's. The guide's lock stops there.

Every acquire hands out a fencing token (``lease.fence``) that grows with every acquisition. Make the
database refuse any write whose token is older than the last one it accepted, in ONE statement
(a read-then-write in Python would race). The same token again is the current holder writing a
second time under its lease: that write must go through.

The table (created for you by ``create_accounts``)::

    accounts(id text PRIMARY KEY, balance bigint NOT NULL, fence bigint NOT NULL DEFAULT 0)
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from reference.databases.bounds import BIGINT_MAX  # noqa: F401, RUF100 - for your solution


def create_accounts(conn: Connection) -> None:
    """Create the ``accounts`` table if it does not exist."""
    conn.execute(
        text(
            "CREATE TABLE IF NOT EXISTS accounts ("
            " id text PRIMARY KEY, balance bigint NOT NULL, fence bigint NOT NULL DEFAULT 0)"
        )
    )


def fenced_set_balance(conn: Connection, account_id: str, balance: int, fence: int) -> bool:
    """Set the account's balance and remember ``fence``, unless a write with a token ``> fence``
    was already accepted. ``True`` if written, ``False`` if refused as stale (nothing changes).
    Raises ``LookupError`` for an account that does not exist, and ``ValueError`` before any query
    for what the table cannot hold: a ``fence`` or ``balance`` past ``BIGINT_MAX`` (or a fence below
    1), or an ``account_id`` containing NUL."""
    # TODO: in one UPDATE, write balance and fence only where the stored fence is not newer than
    # this one; report whether a row was written, and raise LookupError when the account does not
    # exist at all. Refuse a fence, balance or id the table cannot hold before the query.
    raise NotImplementedError
