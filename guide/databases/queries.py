"""The guide's "query optimisation" SQL, ported as written (``total_amount`` is our
``total_cents``).

Defects kept (guide-defects §2.2), each shown by ``tests/databases/test_guide_ports.py``:

- :data:`GUIDE_AGGREGATE` selects ``u.*`` — ``password_hash`` included — and joins and groups
*every*
  active user's orders before ``LIMIT 20`` keeps twenty;
- :data:`GUIDE_CTE` computes ``total_spent`` and drops it from the result, and has no ORDER BY;
- :func:`guide_keyset_page` pages on ``created_at`` alone, a non-unique column: rows that share the
  boundary timestamp are skipped (or, with ``<=``, repeated);
- the guide runs ``EXPLAIN ANALYZE`` with no warning that it executes the statement (for a DELETE,
  the rows are gone) — see :func:`explain_analyze`.

The fixes are ``reference/databases/queries.py``, ``pagination.py`` and ``explain.py``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, text

GUIDE_AGGREGATE = """
SELECT u.*, COUNT(o.id) as order_count
FROM users u
LEFT JOIN orders o ON o.user_id = u.id
WHERE u.status = 'active'
GROUP BY u.id
ORDER BY u.created_at DESC
LIMIT 20
"""

GUIDE_CTE = """
WITH active_users AS (
    SELECT id, name, email
    FROM users
    WHERE status = 'active'
),
user_orders AS (
    SELECT user_id, COUNT(*) as order_count, SUM(total_cents) as total_spent
    FROM orders WHERE status = 'delivered'
    GROUP BY user_id
)
SELECT au.*, COALESCE(uo.order_count, 0) as order_count
FROM active_users au
LEFT JOIN user_orders uo ON uo.user_id = au.id
"""

GUIDE_KEYSET = """
SELECT * FROM users
WHERE created_at < :created_before
ORDER BY created_at DESC
LIMIT :limit
"""


def guide_aggregate(conn: Connection) -> list[RowMapping]:
    return list(conn.execute(text(GUIDE_AGGREGATE)).mappings())


def guide_cte(conn: Connection) -> list[RowMapping]:
    return list(conn.execute(text(GUIDE_CTE)).mappings())


def guide_keyset_page(
    conn: Connection, created_before: datetime, limit: int = 20
) -> list[RowMapping]:
    """The guide's keyset page: rows created strictly before ``created_before``, newest first."""
    params = {"created_before": created_before, "limit": limit}
    return list(conn.execute(text(GUIDE_KEYSET), params).mappings())


def explain_analyze(conn: Connection, query: str, params: dict[str, Any] | None = None) -> str:
    """The guide's ``EXPLAIN (ANALYZE, BUFFERS, FORMAT TEXT)`` — which runs ``query`` for real."""
    rows = conn.execute(text(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT TEXT) {query}"), params or {})
    return "\n".join(row[0] for row in rows)
