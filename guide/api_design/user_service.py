"""Port of the guide's Prisma ``UserService`` (section "ORM (Prisma)") and what its router calls.

Guide (TypeScript)::

    async findMany(params) {
      const { page = 1, limit = 20, status, search } = params;
      const [users, total] = await prisma.$transaction([
        prisma.user.findMany({ where, skip: (page - 1) * limit, take: limit,
                               orderBy: { createdAt: 'desc' }, include: { profile: true } }),
        prisma.user.count({ where }) ]);
      return { users, total, page, limit };
    }

The router calls ``userService.findAll``, ``findById``, ``create``, ``update``, ``patch`` and
``delete`` — none of which the guide defines (it defines only ``findMany``). The port gives each the
Prisma call its name implies: ``findAll`` is ``prisma.user.findMany({skip, take, orderBy: {[sort]:
'asc'}})`` and returns an *array* (so the router's ``users.total`` is undefined). Prisma returns
every scalar column, so ``passwordHash`` travels with every user. Prisma's ``update``/``delete``
throw on a missing row and its unique constraint error is thrown as is — the router catches neither
(500). Query values arrive as strings; the port converts them the way ``Number()`` would, the most
charitable reading (``"abc"`` becomes NaN and Prisma rejects it: 500).
"""

from __future__ import annotations

import math
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from reference.databases.models import User

# Prisma field -> column: the model's scalar fields, what `orderBy: {[sort]: …}` accepts.
PRISMA_FIELDS: dict[str, Any] = {
    "id": User.id,
    "email": User.email,
    "passwordHash": User.password_hash,
    "name": User.name,
    "status": User.status,
    "createdAt": User.created_at,
    "updatedAt": User.updated_at,
}


class PrismaError(Exception):
    """Any error Prisma throws (validation, P2025 record not found, P2002 unique constraint)."""


def js_number(value: Any) -> float:
    """JavaScript ``Number(value)`` for what ``req.query`` can hold (string, array, number)."""
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, list):
        return js_number(value[0]) if len(value) == 1 else math.nan
    try:
        return float(str(value).strip() or "0")
    except ValueError:
        return math.nan


def prisma_user(user: User) -> dict[str, Any]:
    """A Prisma ``User`` result: every scalar field, ``passwordHash`` included."""
    return {
        "id": str(user.id),
        "email": user.email,
        "passwordHash": user.password_hash,
        "name": user.name,
        "status": user.status.value.upper(),
        "createdAt": user.created_at.isoformat(),
        "updatedAt": user.updated_at.isoformat(),
    }


class UserService:
    """The guide's class: ``findMany`` only."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def find_many(self, page: int = 1, limit: int = 20) -> dict[str, Any]:
        with Session(self.engine) as session:
            users = session.scalars(
                select(User)
                .order_by(User.created_at.desc())
                .offset((page - 1) * limit)
                .limit(limit)
            ).all()
            total = session.scalar(select(func.count()).select_from(User))
            return {
                "users": [prisma_user(u) for u in users],
                "total": total,
                "page": page,
                "limit": limit,
            }


class RouterCalls:
    """The methods the router calls on ``userService`` — as Prisma would run them."""

    def __init__(self, engine: Engine, hasher: PasswordHasher | None = None) -> None:
        self.engine = engine
        self.hasher = hasher or PasswordHasher()

    def find_all(self, page: Any, limit: Any, sort: Any) -> list[dict[str, Any]]:
        skip = (js_number(page) - 1) * js_number(limit)
        take = js_number(limit)
        if math.isnan(skip) or math.isnan(take) or not float(take).is_integer():
            raise PrismaError("Argument `take`: Invalid value provided. Expected Int.")
        if not isinstance(sort, str) or sort not in PRISMA_FIELDS:
            raise PrismaError(f"Unknown argument `{sort}` in orderBy.")
        with Session(self.engine) as session:
            users = session.scalars(
                select(User).order_by(PRISMA_FIELDS[sort].asc()).offset(int(skip)).limit(int(take))
            ).all()
            return [prisma_user(u) for u in users]

    def find_by_id(self, user_id: str) -> dict[str, Any] | None:
        # Prisma sends the string as is; PostgreSQL casts it to uuid — or raises (500).
        with Session(self.engine) as session:
            user = session.scalars(
                select(User).where(User.id == text(":raw_id")), {"raw_id": user_id}
            ).first()
            return prisma_user(user) if user else None

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        with Session(self.engine) as session, session.begin():
            user = User(
                email=body["email"],
                name=body["name"],
                password_hash=self.hasher.hash(body["password"]),
            )
            session.add(user)
            session.flush()  # a duplicate e-mail raises IntegrityError here: nobody catches it
            session.refresh(user)
            return prisma_user(user)

    def _write(self, user_id: str, values: dict[str, Any]) -> dict[str, Any]:
        with Session(self.engine) as session, session.begin():
            user = session.scalars(
                select(User).where(User.id == text(":raw_id")), {"raw_id": user_id}
            ).first()
            if user is None:
                raise PrismaError("P2025: Record to update not found.")
            for key, value in values.items():
                setattr(user, key, value)
            session.flush()
            session.refresh(user)
            return prisma_user(user)

    def update(self, user_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._write(user_id, body)

    def patch(self, user_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._write(user_id, body)

    def delete(self, user_id: str) -> None:
        with Session(self.engine) as session, session.begin():
            user = session.scalars(
                select(User).where(User.id == text(":raw_id")), {"raw_id": user_id}
            ).first()
            if user is None:
                raise PrismaError("P2025: Record to delete does not exist.")
            session.delete(user)
