"""Bulk test data with ``generate_series``: one ``INSERT … SELECT`` per table, no Python loop.

The pattern: let the database generate rows — a million users take seconds this way, minutes as
single-row inserts from Python. Data is deterministic (email ``user<n>@example.com``, ``created_at``
stepping from a fixed instant) so notebooks print the same facts on every run; ``ties`` makes
groups of
rows share one ``created_at`` (the case that breaks keyset pagination on a non-unique column).
Used by ``notebooks/02_databases_postgres.ipynb``, the tests and ``bench/pagination.py``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, text

EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
# Not a real hash: seeded users never log in. Real hashes come from chapter 03's Argon2 helper.
PLACEHOLDER_HASH = "$argon2id$seeded-user-cannot-log-in"


def seed_users(
    conn: Connection,
    n: int,
    *,
    ties: int = 1,
    inactive_every: int = 10,
    first: int = 1,
    start: datetime = EPOCH,
) -> None:
    """Insert users ``first … first+n-1``; every ``ties`` consecutive users share a ``created_at``.

    User ``g`` is created at ``start + ((g-1) // ties)`` seconds; every ``inactive_every``-th user
    is
    inactive, the rest active.
    """
    if n < 0 or ties < 1 or inactive_every < 1:
        raise ValueError("n must be >= 0, ties and inactive_every >= 1")
    conn.execute(
        text(
            """
            INSERT INTO users (email, name, password_hash, status, created_at, updated_at)
            SELECT 'user' || g || '@example.com',
                   'User ' || g,
                   :hash,
                   CASE WHEN g % :inactive_every = 0 THEN 'inactive' ELSE 'active' END::user_status,
                   :start + ((g - 1) / :ties) * interval '1 second',
                   :start + ((g - 1) / :ties) * interval '1 second'
            FROM generate_series(CAST(:first AS bigint), CAST(:last AS bigint)) AS g
            """
        ),
        {
            "hash": PLACEHOLDER_HASH,
            "inactive_every": inactive_every,
            "start": start,
            "ties": ties,
            "first": first,
            "last": first + n - 1,
        },
    )


def seed_orders(conn: Connection, per_user: int) -> None:
    """Give every user ``per_user`` orders with deterministic statuses and totals."""
    conn.execute(
        text(
            """
            INSERT INTO orders (user_id, status, total_cents, created_at, updated_at)
            SELECT u.id,
                   (ARRAY['pending', 'paid', 'shipped', 'delivered', 'delivered'])
                       [1 + (k + (hashtext(u.email) & 1023)) % 5]::order_status,
                   1000 * k + (hashtext(u.email) & 1023),
                   u.created_at + k * interval '1 hour',
                   u.created_at + k * interval '1 hour'
            FROM users u CROSS JOIN generate_series(1, :per_user) AS k
            """
        ),
        {"per_user": per_user},
    )
