"""Trigram search on users: the pg_trgm extension and one GIN index over name and email.

``ILIKE '%term%'`` has no left anchor, so a btree index cannot serve it (the guide's Prisma
``contains`` scanned the table). A GIN index with ``gin_trgm_ops`` can, for both ``name`` and
``email``.

The extension may exist before this migration (another schema's trigram indexes need it), so the
upgrade records whether it created it — a comment on its own index — and the downgrade drops only
an extension it created, and only while nothing else depends on it: dropping an extension someone
else installed, or one another object still needs (``DROP EXTENSION`` would abort the whole
downgrade), is not this migration's to do.

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-01
"""

from __future__ import annotations

from collections.abc import Sequence

import psycopg
import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


INDEX = "ix_users_name_email_trgm"
CREATED_MARK = "0002 created pg_trgm"


def upgrade() -> None:
    bind = op.get_bind()
    existed = bind.execute(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")).first()
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_index(
        INDEX,
        "users",
        ["name", "email"],
        postgresql_using="gin",
        postgresql_ops={"name": "gin_trgm_ops", "email": "gin_trgm_ops"},
    )
    if existed is None:
        op.execute(f"COMMENT ON INDEX {INDEX} IS '{CREATED_MARK}'")


def downgrade() -> None:
    bind = op.get_bind()
    mark = bind.execute(
        sa.text(f"SELECT obj_description('{INDEX}'::regclass, 'pg_class')")
    ).scalar()
    op.drop_index(INDEX, table_name="users")
    if mark != CREATED_MARK:
        return  # pg_trgm was there before the upgrade: leave it
    try:
        with bind.begin_nested():  # a savepoint: a refused DROP leaves the downgrade intact
            bind.execute(sa.text("DROP EXTENSION pg_trgm"))
    except sa.exc.DBAPIError as error:
        if not isinstance(error.orig, psycopg.errors.DependentObjectsStillExist):
            raise
