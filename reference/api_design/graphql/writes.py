"""The mutations' writes: validate, write, report problems as data.

Pattern: a mutation returns ``(row, errors)``. Input a user can correct (a malformed email, a short
password, an email someone else has) becomes a
:class:`~reference.api_design.graphql.types.UserError` in the payload; only authorization and
unknown ids are top-level errors. A duplicate email is caught from the database's unique index
(``uq_users_email_lower``), not a racy "SELECT then INSERT". Taught in
``notebooks/01_api_design_graphql_grpc.ipynb``.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

from argon2 import PasswordHasher
from email_validator import EmailNotValidError, validate_email
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from reference.api_design.graphql.events import publish_order_status
from reference.databases.models import Order, OrderStatus, User

MIN_PASSWORD_LENGTH = 12
MAX_NAME_LENGTH = 100
UNIQUE_VIOLATION = "23505"

_hasher = PasswordHasher()


@dataclass(frozen=True)
class Problem:
    field: str | None
    code: str
    message: str


def check_email(email: str) -> tuple[str | None, Problem | None]:
    try:
        return validate_email(email, check_deliverability=False).normalized, None
    except EmailNotValidError as exc:
        return None, Problem("email", "INVALID", str(exc))


def check_name(name: str) -> Problem | None:
    if not 1 <= len(name.strip()) <= MAX_NAME_LENGTH:
        return Problem("name", "INVALID", f"name must be 1 to {MAX_NAME_LENGTH} characters")
    return None


def _is_duplicate_email(exc: IntegrityError) -> bool:
    return getattr(exc.orig, "sqlstate", None) == UNIQUE_VIOLATION


async def create_user(
    sessions: async_sessionmaker[AsyncSession], email: str, name: str, password: str
) -> tuple[User | None, list[Problem]]:
    normalized, email_problem = check_email(email)
    problems = [p for p in (email_problem, check_name(name)) if p is not None]
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(
            Problem("password", "TOO_SHORT", f"at least {MIN_PASSWORD_LENGTH} characters")
        )
    if problems or normalized is None:
        return None, problems
    password_hash = await asyncio.to_thread(_hasher.hash, password)
    async with sessions() as session:
        user = User(email=normalized, name=name.strip(), password_hash=password_hash)
        session.add(user)
        try:
            await session.commit()
        except IntegrityError as exc:
            if not _is_duplicate_email(exc):
                raise
            return None, [Problem("email", "TAKEN", "an account with this email already exists")]
        await session.refresh(user)
        return user, []


async def update_user(
    sessions: async_sessionmaker[AsyncSession],
    user_id: uuid.UUID,
    name: str | None,
    email: str | None,
) -> tuple[User | None, list[Problem]]:
    """``(None, [])`` means no such user."""
    problems: list[Problem] = []
    normalized: str | None = None
    if email is not None:
        normalized, problem = check_email(email)
        problems += [problem] if problem else []
    if name is not None and (problem := check_name(name)) is not None:
        problems.append(problem)
    async with sessions() as session:
        user = await session.get(User, user_id)
        if user is None or problems:
            return user, problems
        if name is not None:
            user.name = name.strip()
        if normalized is not None:
            user.email = normalized
        try:
            await session.commit()
        except IntegrityError as exc:
            if not _is_duplicate_email(exc):
                raise
            await session.rollback()
            return await session.get(User, user_id), [
                Problem("email", "TAKEN", "an account with this email already exists")
            ]
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
