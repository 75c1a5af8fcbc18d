"""The guide's ``prisma/schema.prisma`` ``User`` model, ported to SQLAlchemy as written.

Prisma → SQLAlchemy: ``String @id @default(uuid())`` → a ``String`` key (no ``@db.Uuid``);
``enum UserStatus { ACTIVE … }`` without ``@map`` → an Enum that stores member *names*;
``@@index([status, createdAt(sort: Desc)])`` → the same index. ``profile Profile?`` and
``orders Order[]`` are dropped: the guide never defines ``Profile`` or ``Order``.

Defects kept (guide-defects §2.8), shown by ``tests/databases/test_guide_ports.py``:

- the enum sends ``'ACTIVE'`` where the SQL type holds ``'active'`` — every insert fails;
- ``id`` is text against a UUID column, ``email`` has no length, there is no ``role``;
- it is a second source of truth: compared with the migrated database it drifts.

The fix is ``reference/databases/models.py`` plus ``migrate.check``.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import DateTime, Enum, Index, MetaData, String, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class PrismaBase(DeclarativeBase):
    metadata = MetaData()


class UserStatus(enum.Enum):
    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"
    SUSPENDED = "SUSPENDED"


class User(PrismaBase):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String, primary_key=True, default=lambda: str(uuid.uuid4()))
    email: Mapped[str] = mapped_column(String, unique=True)
    password_hash: Mapped[str] = mapped_column("password_hash", String)
    name: Mapped[str] = mapped_column(String)
    status: Mapped[UserStatus] = mapped_column(
        Enum(UserStatus, name="user_status"), default=UserStatus.ACTIVE
    )
    created_at: Mapped[datetime] = mapped_column("created_at", DateTime, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        "updated_at", DateTime, server_default=func.now(), onupdate=func.now()
    )

    __table_args__ = (Index("User_status_createdAt_idx", "status", created_at.desc()),)
