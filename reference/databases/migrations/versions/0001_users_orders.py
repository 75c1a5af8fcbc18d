"""Users and orders: UUID keys, enums, NOT NULL defaults, case-insensitive email, updated_at.

The guide's migration (``guide/databases/migration.py``) left ``status``, ``created_at`` and
``updated_at`` nullable, made email unique case-sensitively, had no ``role`` and added two redundant
indexes. Here every index earns its place: none is a left prefix of another (checked from
``pg_index`` in the tests).

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

user_status = postgresql.ENUM(
    "active", "inactive", "suspended", name="user_status", create_type=False
)
user_role = postgresql.ENUM("user", "manager", "admin", name="user_role", create_type=False)
order_status = postgresql.ENUM(
    "pending", "paid", "shipped", "delivered", "cancelled", name="order_status", create_type=False
)

# One trigger function for every table with an updated_at column: writes that bypass the ORM
# (psql, another service, a bulk UPDATE) bump it too.
SET_UPDATED_AT = """
CREATE FUNCTION set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$
"""


def _timestamps() -> list[sa.Column[object]]:
    return [
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    ]


def upgrade() -> None:
    bind = op.get_bind()
    for enum in (user_status, user_role, order_status):
        enum.create(bind, checkfirst=False)

    op.create_table(
        "users",
        sa.Column("id", sa.UUID(), nullable=False, server_default=sa.text("gen_random_uuid()")),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("status", user_status, nullable=False, server_default="active"),
        sa.Column("role", user_role, nullable=False, server_default="user"),
        sa.Column("token_version", sa.Integer(), nullable=False, server_default="0"),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
    )
    op.create_index("uq_users_email_lower", "users", [sa.text("lower(email)")], unique=True)
    op.create_index("ix_users_status_created_at_id", "users", ["status", "created_at", "id"])
    op.create_index("ix_users_created_at_id", "users", ["created_at", "id"])

    op.create_table(
        "orders",
        sa.Column("id", sa.UUID(), nullable=False, server_default=sa.text("gen_random_uuid()")),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("status", order_status, nullable=False, server_default="pending"),
        sa.Column("total_cents", sa.BigInteger(), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_orders"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_orders_user_id_users", ondelete="CASCADE"
        ),
        # op.f(): the name is final; a plain string would get the metadata naming convention
        # applied again (ck_orders_ck_orders_…).
        sa.CheckConstraint("total_cents >= 0", name=op.f("ck_orders_total_cents_non_negative")),
    )
    op.create_index("ix_orders_user_id_created_at", "orders", ["user_id", "created_at"])
    op.create_index(
        "ix_orders_delivered_created_at",
        "orders",
        ["created_at"],
        postgresql_where=sa.text("status = 'delivered'"),
    )

    op.execute(SET_UPDATED_AT)
    for table in ("users", "orders"):
        op.execute(
            f"CREATE TRIGGER {table}_set_updated_at BEFORE UPDATE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
        )


def downgrade() -> None:
    for table in ("orders", "users"):
        op.execute(f"DROP TRIGGER IF EXISTS {table}_set_updated_at ON {table}")
    op.execute("DROP FUNCTION IF EXISTS set_updated_at()")
    op.drop_table("orders")
    op.drop_table("users")
    bind = op.get_bind()
    for enum in (order_status, user_role, user_status):
        enum.drop(bind, checkfirst=False)
