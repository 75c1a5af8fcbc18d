"""The guide's report queries rewritten: limit before joining (LATERAL), and a CTE that keeps its
totals.

The pattern: decide *which* rows you want before doing per-row work. The guide joined every active
user to every order, grouped them all, and only then kept 20; :data:`RECENT_USERS_WITH_ORDER_COUNTS`
picks the 20 newest active users from the ``(status, created_at, id)`` index first and counts each
one's orders with a ``LATERAL`` subquery on ``(user_id, created_at)``. Same result, a fraction of
the
rows touched (compare ``PlanSummary.rows_processed``). The guide's CTE computed ``total_spent`` and
then dropped it, with no ORDER BY; :data:`TOP_SPENDERS` returns it and sorts by it. Neither selects
``u.*`` (which would return ``password_hash``). Taught in ``notebooks/02_databases_postgres.ipynb``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import Connection, text

from reference.databases.pagination import check_limit

RECENT_USERS_WITH_ORDER_COUNTS = """
SELECT u.id, u.email, u.name, u.created_at, oc.order_count
FROM (
    SELECT id, email, name, created_at
    FROM users
    WHERE status = 'active'
    ORDER BY created_at DESC, id DESC
    LIMIT :limit
) AS u
CROSS JOIN LATERAL (
    SELECT count(*) AS order_count FROM orders o WHERE o.user_id = u.id
) AS oc
ORDER BY u.created_at DESC, u.id DESC
"""

TOP_SPENDERS = """
WITH active_users AS (
    SELECT id, name, email FROM users WHERE status = 'active'
),
user_orders AS (
    SELECT user_id, count(*) AS order_count, sum(total_cents) AS total_spent_cents
    FROM orders
    WHERE status = 'delivered'
    GROUP BY user_id
)
SELECT au.id, au.name, au.email,
       COALESCE(uo.order_count, 0) AS order_count,
       COALESCE(uo.total_spent_cents, 0) AS total_spent_cents
FROM active_users au
LEFT JOIN user_orders uo ON uo.user_id = au.id
ORDER BY total_spent_cents DESC, au.id
LIMIT :limit
"""


@dataclass(frozen=True)
class UserOrderCount:
    id: uuid.UUID
    email: str
    name: str
    order_count: int


@dataclass(frozen=True)
class Spender:
    id: uuid.UUID
    name: str
    email: str
    order_count: int
    total_spent_cents: int


def recent_users_with_order_counts(conn: Connection, limit: int = 20) -> list[UserOrderCount]:
    """The ``limit`` newest active users with how many orders each has placed."""
    rows = conn.execute(text(RECENT_USERS_WITH_ORDER_COUNTS), {"limit": check_limit(limit)})
    return [UserOrderCount(r.id, r.email, r.name, r.order_count) for r in rows]


def top_spenders(conn: Connection, limit: int = 20) -> list[Spender]:
    """Active users by money spent on delivered orders, biggest first (ties by id)."""
    rows = conn.execute(text(TOP_SPENDERS), {"limit": check_limit(limit)})
    return [Spender(r.id, r.name, r.email, r.order_count, int(r.total_spent_cents)) for r in rows]
