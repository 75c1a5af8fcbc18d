"""Decoy for 02.4: the indexes of 0001 only, missing 0003's ix_orders_created_at_id. Caught by alembic
check (remove_index) and the index test.

Caught by test_alembic_check_is_clean.
"""

from __future__ import annotations

import enum

import sqlalchemy as sa
from sqlalchemy import MetaData, Table
from sqlalchemy.dialects import postgresql


class OrderStatus(enum.StrEnum):
    """The order states; PostgreSQL's ``order_status`` enum holds their values."""

    PENDING = "pending"
    PAID = "paid"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


def orders_table(metadata: MetaData) -> Table:
    """Define ``orders`` on ``metadata`` exactly as migrations 0001–0003 create it; return it."""
    values = [status.value for status in OrderStatus]
    timestamp = sa.DateTime(timezone=True)
    return Table(
        "orders",
        metadata,
        sa.Column("id", postgresql.UUID(as_uuid=True), server_default=sa.text("gen_random_uuid()")),
        sa.Column("user_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column(
            "status",
            # values_callable stores 'paid', not the member name 'PAID' (the guide's Prisma enum);
            # create_all makes the type from these values, in the order 0001 declares them.
            sa.Enum(OrderStatus, name="order_status", values_callable=lambda _: values),
            nullable=False,
            server_default=OrderStatus.PENDING.value,
        ),
        # Cents in a BIGINT: exact, and no NUMERIC precision for the model to get wrong.
        sa.Column("total_cents", sa.BigInteger(), nullable=False),
        sa.Column("created_at", timestamp, nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", timestamp, nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("id", name="pk_orders"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_orders_user_id_users", ondelete="CASCADE"
        ),
        sa.CheckConstraint("total_cents >= 0", name="ck_orders_total_cents_non_negative"),
        sa.Index("ix_orders_user_id_created_at", "user_id", "created_at"),
        # Alembic's autogenerate does not compare a partial index's WHERE: only the catalog shows it.
        sa.Index(
            "ix_orders_delivered_created_at",
            "created_at",
            postgresql_where=sa.text("status = 'delivered'"),
        ),
    )
