"""The users table behind the REST resource: paging with a true total, and compare-and-set writes.

The pattern: a page and its ``total`` are read in one REPEATABLE READ snapshot (two statements that
agree), ordered by the allow-listed key *plus the primary key* so rows that tie never repeat or
vanish between pages. Writes carry the row version (PostgreSQL ``xmin``) the client last saw and put
it in the ``UPDATE``'s ``WHERE`` clause — a stale write changes nothing and is reported, so no
update is silently lost. A unique-index violation on ``lower(email)`` becomes :class:`EmailTaken`
(409), never a 500. Taught in ``notebooks/01_api_design_rest.ipynb``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Engine, delete, func, insert, literal_column, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from reference.databases.models import Order, User

# The row version: the id of the transaction that last wrote the row.
xmin: ColumnElement[int] = literal_column("users.xmin::text::bigint")
EMAIL_INDEX = "uq_users_email_lower"

_SORT_COLUMNS: dict[str, Any] = {
    "created_at": User.created_at,
    "email": func.lower(User.email),
    "name": User.name,
}


class EmailTaken(Exception):
    """Another user already has this e-mail address (compared case-insensitively)."""


class UserNotFound(LookupError):
    pass


class StaleVersion(Exception):
    """The row changed since the version the caller presented."""


@dataclass(frozen=True)
class Versioned:
    user: User
    version: int


def _is_email_conflict(error: IntegrityError) -> bool:
    diag = getattr(error.orig, "diag", None)
    return getattr(diag, "constraint_name", None) == EMAIL_INDEX


class UserRepository:
    """Every query the users resource makes, on one SQLAlchemy engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def page(self, *, page: int, limit: int, sort: str) -> tuple[list[Versioned], int]:
        """One page in ``sort`` order (ties broken by id) and the total, from one snapshot."""
        descending = sort.startswith("-")
        column = _SORT_COLUMNS[sort.lstrip("-")]
        order = (column.desc(), User.id.desc()) if descending else (column.asc(), User.id.asc())
        with Session(self.engine) as session, session.begin():
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            total = session.scalar(select(func.count()).select_from(User)) or 0
            rows = session.execute(
                select(User, xmin).order_by(*order).offset((page - 1) * limit).limit(limit)
            ).all()
            session.expunge_all()
        return [Versioned(user, version) for user, version in rows], total

    def get(self, user_id: uuid.UUID) -> Versioned | None:
        with Session(self.engine) as session:
            row = session.execute(select(User, xmin).where(User.id == user_id)).first()
            session.expunge_all()
        return Versioned(row[0], row[1]) if row else None

    def create(self, *, email: str, name: str, password_hash: str) -> Versioned:
        try:
            with Session(self.engine) as session, session.begin():
                row = session.execute(
                    insert(User)
                    .values(email=email, name=name, password_hash=password_hash)
                    .returning(User.id)
                ).one()
        except IntegrityError as error:
            if _is_email_conflict(error):
                raise EmailTaken(email) from error
            raise
        created = self.get(row[0])
        assert created is not None
        return created

    def update(
        self, user_id: uuid.UUID, values: Mapping[str, Any], *, expected_version: int | None
    ) -> Versioned:
        """Write ``values`` if the row is still at ``expected_version`` (``None``: regardless)."""
        condition = [User.id == user_id]
        if expected_version is not None:
            condition.append(xmin == expected_version)
        statement = (
            update(User)
            .where(*condition)
            .values(**values, updated_at=func.clock_timestamp())
            .returning(User.id)
        )
        try:
            with Session(self.engine) as session, session.begin():
                changed = session.execute(statement).first()
        except IntegrityError as error:
            if _is_email_conflict(error):
                raise EmailTaken(str(values.get("email"))) from error
            raise
        current = self.get(user_id)
        if current is None:
            raise UserNotFound(user_id)
        if changed is None:
            raise StaleVersion(user_id)
        return current

    def delete(self, user_id: uuid.UUID, *, expected_version: int | None) -> None:
        condition = [User.id == user_id]
        if expected_version is not None:
            condition.append(xmin == expected_version)
        with Session(self.engine) as session, session.begin():
            deleted = session.execute(delete(User).where(*condition).returning(User.id)).first()
            if deleted is None:
                exists = session.scalar(select(User.id).where(User.id == user_id))
                if exists is None:
                    raise UserNotFound(user_id)
                raise StaleVersion(user_id)

    def orders(self, user_id: uuid.UUID, *, page: int, limit: int) -> tuple[list[Order], int]:
        """A user's orders, newest first, with the total."""
        with Session(self.engine) as session, session.begin():
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            where = Order.user_id == user_id
            total = session.scalar(select(func.count()).select_from(Order).where(where)) or 0
            orders = list(
                session.scalars(
                    select(Order)
                    .where(where)
                    .order_by(Order.created_at.desc(), Order.id.desc())
                    .offset((page - 1) * limit)
                    .limit(limit)
                )
            )
            session.expunge_all()
        return orders, total
