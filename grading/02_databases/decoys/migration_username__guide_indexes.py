"""Decoy for 02.2: the guide's habits — a case-sensitive UNIQUE plus an extra plain index.

Like ``email VARCHAR(255) NOT NULL UNIQUE`` + ``CREATE INDEX idx_users_email ON users(email)`` in the
guide's migration (guide/databases/migration.py): 'bob' gets in after 'Bob', and the plain index
duplicates the unique one.

Caught by test_usernames_are_unique_ignoring_case.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("username", sa.String(40), unique=True))
    op.create_check_constraint(
        "ck_users_username_format", "users", "username ~ '^[A-Za-z0-9_]{3,40}$'"
    )
    op.create_index("idx_users_username", "users", ["username"])


def downgrade() -> None:
    op.drop_index("idx_users_username", table_name="users")
    op.drop_column("users", "username")
