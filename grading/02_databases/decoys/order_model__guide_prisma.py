"""Decoy for 02.4: the guide's Prisma-style model (String id, enum by name, naive DateTime, Int
total, one @@index, no onDelete). Caught by alembic check and by the round-trip and enum tests.

Caught by test_alembic_check_is_clean.
"""

from __future__ import annotations

import enum
import uuid

import sqlalchemy as sa
from sqlalchemy import MetaData, Table


class OrderStatus(enum.StrEnum):
    """The order states; PostgreSQL's ``order_status`` enum holds their values."""

    PENDING = "pending"
    PAID = "paid"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


def orders_table(metadata: MetaData) -> Table:
    """Define ``orders`` on ``metadata`` exactly as migrations 0001–0003 create it; return it."""
    return Table(
        "orders",
        metadata,
        sa.Column("id", sa.String, primary_key=True, default=lambda: str(uuid.uuid4())),
        sa.Column("user_id", sa.String, sa.ForeignKey("users.id")),
        sa.Column("status", sa.Enum(OrderStatus, name="order_status"), default=OrderStatus.PENDING),
        sa.Column("total_cents", sa.Integer),
        sa.Column("created_at", sa.DateTime, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime, server_default=sa.func.now(), onupdate=sa.func.now()),
        sa.Index("Order_userId_idx", "user_id"),
    )
