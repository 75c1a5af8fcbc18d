"""The mutations' writes: validate, write, report problems as data.

Pattern: a mutation returns ``(row, errors)``. Input a user can correct (a malformed email, a short
password, a NUL in a name, an email someone else has) becomes a
:class:`~reference.api_design.graphql.types.UserError` in the payload; only authorization and
unknown ids are top-level errors. The input is validated by the REST API's own pydantic models
(:class:`~reference.api_design.schemas.UserCreate`, :class:`~reference.api_design.schemas.UserPatch`)
— one validation model, so the same data gets the same answer from every API (the first GraphQL
port had its own rules: no cap on passwords, NUL reaching PostgreSQL). A duplicate email is caught
from the database's unique index (``uq_users_email_lower``), not a racy "SELECT then INSERT".
Taught in ``notebooks/01_api_design_graphql.ipynb``.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

from argon2 import PasswordHasher
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from reference.api_design.graphql.events import publish_order_status
from reference.api_design.schemas import UserCreate, UserPatch
from reference.databases.models import Order, OrderStatus, User

UNIQUE_VIOLATION = "23505"
# pydantic's error types a client can act on by name; every other refusal is INVALID.
PROBLEM_CODES = {"string_too_short": "TOO_SHORT", "string_too_long": "TOO_LONG"}

_hasher = PasswordHasher()


@dataclass(frozen=True)
class Problem:
    field: str | None
    code: str
    message: str


def problems_of(error: ValidationError) -> list[Problem]:
    """One problem per refused field (its first error: an optional field fails once per member of
    its ``X | None`` union); pydantic's message, never the value that was sent."""
    first: dict[str | None, Problem] = {}
    for detail in error.errors(include_url=False, include_input=False, include_context=False):
        field = str(detail["loc"][0]) if detail["loc"] else None
        code = PROBLEM_CODES.get(detail["type"], "INVALID")
        first.setdefault(field, Problem(field, code, detail["msg"]))
    return list(first.values())


def _taken() -> Problem:
    return Problem("email", "TAKEN", "an account with this email already exists")


def _is_duplicate_email(exc: IntegrityError) -> bool:
    return getattr(exc.orig, "sqlstate", None) == UNIQUE_VIOLATION


async def create_user(
    sessions: async_sessionmaker[AsyncSession], email: str, name: str, password: str
) -> tuple[User | None, list[Problem]]:
    try:
        data = UserCreate(email=email, name=name, password=password)
    except ValidationError as error:
        return None, problems_of(error)
    password_hash = await asyncio.to_thread(_hasher.hash, data.password)
    async with sessions() as session:
        user = User(email=data.email, name=data.name, password_hash=password_hash)
        session.add(user)
        try:
            await session.commit()
        except IntegrityError as exc:
            if not _is_duplicate_email(exc):
                raise
            return None, [_taken()]
        await session.refresh(user)
        return user, []


async def update_user(
    sessions: async_sessionmaker[AsyncSession],
    user_id: uuid.UUID,
    name: str | None,
    email: str | None,
) -> tuple[User | None, list[Problem]]:
    """``(None, [])`` means no such user. A ``None`` argument leaves that field unchanged."""
    sent = {key: value for key, value in (("name", name), ("email", email)) if value is not None}
    try:
        changes = UserPatch.model_validate(sent).model_dump(exclude_unset=True)
        problems: list[Problem] = []
    except ValidationError as error:
        changes, problems = {}, problems_of(error)
    async with sessions() as session:
        user = await session.get(User, user_id)
        if user is None or problems:
            return user, problems
        for key, value in changes.items():
            setattr(user, key, value)
        try:
            await session.commit()
        except IntegrityError as exc:
            if not _is_duplicate_email(exc):
                raise
            await session.rollback()
            return await session.get(User, user_id), [_taken()]
        await session.refresh(user)  # updated_at comes from a trigger
        return user, []


async def update_order_status(
    sessions: async_sessionmaker[AsyncSession], order_id: uuid.UUID, status: OrderStatus
) -> Order | None:
    """Change the status and notify the owner's subscribers in the same transaction."""
    async with sessions() as session:
        order = await session.get(Order, order_id)
        if order is None:
            return None
        order.status = status
        await session.flush()
        await publish_order_status(session, order)
        await session.commit()
        await session.refresh(order)
        return order
