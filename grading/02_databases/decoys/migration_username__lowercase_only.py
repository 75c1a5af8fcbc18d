"""Decoy for 02.2: case-insensitive uniqueness by refusing capitals — a plain UNIQUE and a CHECK that
allows only lowercase, so 'Bob' cannot even be chosen. Caught by the uniqueness test ('Bob' is a
valid username).

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
    op.add_column("users", sa.Column("username", sa.String(40), nullable=True))
    op.create_check_constraint(
        "ck_users_username_format", "users", "username ~ '^[a-z0-9_]{3,40}$'"
    )
    op.create_unique_constraint("uq_users_username", "users", ["username"])


def downgrade() -> None:
    op.drop_constraint("uq_users_username", "users", type_="unique")
    op.drop_constraint("ck_users_username_format", "users", type_="check")
    op.drop_column("users", "username")
