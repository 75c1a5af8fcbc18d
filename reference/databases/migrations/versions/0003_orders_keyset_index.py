"""Orders newest first by position: one btree index on ``(created_at, id)``.

Keyset pagination of orders (exercise 02.1, ``GET /orders``) asks for
``WHERE (created_at, id) < (:t, :id) ORDER BY created_at DESC, id DESC LIMIT n``. Without an index
on exactly that pair PostgreSQL reads every order and sorts them for each page; with it, the row
comparison is an index condition (a seek to the cursor) and the index's order is the page's order,
so page 10,000 costs what page 1 costs. Neither index of 0001 serves it: one leads with
``user_id``, the other only holds delivered orders.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_orders_created_at_id"


def upgrade() -> None:
    op.create_index(INDEX, "orders", ["created_at", "id"])


def downgrade() -> None:
    op.drop_index(INDEX, table_name="orders")
