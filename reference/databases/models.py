"""SQLAlchemy 2.0 models of the course's users and orders — the one model every chapter shares.

The Alembic migrations in ``reference/databases/migrations`` create exactly this schema;
``alembic check`` in the tests proves they never drift (the guide kept a Prisma schema and SQL side
by side and they disagreed). Taught in ``notebooks/02_databases_orm.ipynb``.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UserStatus(enum.StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    SUSPENDED = "suspended"


class UserRole(enum.StrEnum):
    USER = "user"
    MANAGER = "manager"
    ADMIN = "admin"


class OrderStatus(enum.StrEnum):
    PENDING = "pending"
    PAID = "paid"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


def _pg_enum(enum_cls: type[enum.StrEnum], name: str) -> Enum:
    # values_callable stores 'active', not the member name 'ACTIVE' (the guide's Prisma mismatch).
    return Enum(enum_cls, name=name, values_callable=lambda members: [m.value for m in members])


class User(Base):
    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")
    )
    email: Mapped[str] = mapped_column(String(320), nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    password_hash: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[UserStatus] = mapped_column(
        _pg_enum(UserStatus, "user_status"),
        nullable=False,
        server_default=UserStatus.ACTIVE.value,
    )
    role: Mapped[UserRole] = mapped_column(
        _pg_enum(UserRole, "user_role"), nullable=False, server_default=UserRole.USER.value
    )
    # Bumped on demotion or logout-everywhere; tokens with an older version are refused (ch. 03).
    token_version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    # Maintained by a trigger, so writes that bypass the ORM bump it too.
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )

    orders: Mapped[list[Order]] = relationship(back_populates="user", passive_deletes=True)

    __table_args__ = (
        # Case-insensitive uniqueness: 'A@X.com' collides with 'a@x.com'.
        Index("uq_users_email_lower", func.lower(email), unique=True),
        # Serves "active users, newest first" and keyset pagination on (created_at, id).
        Index("ix_users_status_created_at_id", "status", "created_at", "id"),
        Index("ix_users_created_at_id", "created_at", "id"),
        # ILIKE '%term%' on name or email (find_many's search); needs the pg_trgm extension.
        Index(
            "ix_users_name_email_trgm",
            "name",
            "email",
            postgresql_using="gin",
            postgresql_ops={"name": "gin_trgm_ops", "email": "gin_trgm_ops"},
        ),
    )


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    status: Mapped[OrderStatus] = mapped_column(
        _pg_enum(OrderStatus, "order_status"),
        nullable=False,
        server_default=OrderStatus.PENDING.value,
    )
    total_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )

    user: Mapped[User] = relationship(back_populates="orders")

    __table_args__ = (
        CheckConstraint("total_cents >= 0", name="total_cents_non_negative"),
        # A user's orders newest first (DataLoader, LATERAL top-N); leads with user_id so it also
        # serves the foreign key's lookups on delete.
        Index("ix_orders_user_id_created_at", "user_id", "created_at"),
        # Keyset pages of all orders: (created_at, id) < (:t, :id) seeks here (migration 0003).
        Index("ix_orders_created_at_id", "created_at", "id"),
        # Only delivered orders count as revenue; a partial index keeps that report small.
        Index(
            "ix_orders_delivered_created_at",
            "created_at",
            postgresql_where=text("status = 'delivered'"),
        ),
    )
