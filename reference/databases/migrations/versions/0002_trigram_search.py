"""Trigram search on users: the pg_trgm extension and one GIN index over name and email.

``ILIKE '%term%'`` has no left anchor, so a btree index cannot serve it (the guide's Prisma
``contains`` scanned the table). A GIN index with ``gin_trgm_ops`` can, for both ``name`` and
``email``.

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-01
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_index(
        "ix_users_name_email_trgm",
        "users",
        ["name", "email"],
        postgresql_using="gin",
        postgresql_ops={"name": "gin_trgm_ops", "email": "gin_trgm_ops"},
    )


def downgrade() -> None:
    op.drop_index("ix_users_name_email_trgm", table_name="users")
    op.execute("DROP EXTENSION IF EXISTS pg_trgm")
