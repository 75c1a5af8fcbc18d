"""``find_many``: a searchable, paged user list that is safe to put behind an API.

The guide's Prisma ``findMany`` port (``guide/databases/user_service.py``) shows six defects; each
is
fixed here:

- the search escapes LIKE wildcards, so ``"50%"`` matches the literal text, not "50 then anything";
- it is ``ILIKE`` on ``name``/``email`` themselves, which the pg_trgm GIN index can serve;
- rows are ordered by ``(created_at, id)`` — unique, so pages never overlap or skip;
- ``page < 1`` and a limit outside ``1…MAX_LIMIT`` raise ``ValueError`` (an API maps it to 422),
  and so do a page whose ``OFFSET`` is past ``bigint`` and a NUL in ``search`` (which PostgreSQL
  would refuse with ``DataError``, an API's 500);
- only public columns are selected — ``password_hash`` never leaves the database;
- the page and the total are read in one REPEATABLE READ transaction, so they come from one
snapshot.

Taught in ``notebooks/02_databases_orm.ipynb``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from reference.databases.bounds import check_int, check_text
from reference.databases.models import User, UserRole, UserStatus
from reference.databases.pagination import check_page

MAX_LIMIT = 100
MAX_SEARCH_LENGTH = 100
LIKE_ESCAPE = "\\"


@dataclass(frozen=True)
class UserSummary:
    """What a user list may show: no ``password_hash``, no ``token_version``."""

    id: uuid.UUID
    email: str
    name: str
    status: UserStatus
    role: UserRole
    created_at: datetime


@dataclass(frozen=True)
class UserPage:
    items: list[UserSummary]
    total: int
    page: int
    limit: int


PUBLIC_COLUMNS = (User.id, User.email, User.name, User.status, User.role, User.created_at)


def escape_like(term: str) -> str:
    """Escape ``\\``, ``%`` and ``_`` so ``term`` matches literally inside a LIKE pattern."""
    return (
        term.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
        .replace("%", LIKE_ESCAPE + "%")
        .replace("_", LIKE_ESCAPE + "_")
    )


def search_condition(search: str) -> ColumnElement[bool]:
    """``name ILIKE '%term%' OR email ILIKE '%term%'`` with ``term`` escaped — trigram-indexable."""
    pattern = f"%{escape_like(search)}%"
    return or_(
        User.name.ilike(pattern, escape=LIKE_ESCAPE),
        User.email.ilike(pattern, escape=LIKE_ESCAPE),
    )


def _validate(search: str | None, page: int, limit: int) -> None:
    check_int("limit", limit, minimum=1, maximum=MAX_LIMIT)
    check_page(page, limit)  # an OFFSET past bigint is a ValueError, not a DataError
    if search is not None:
        check_text("search", search, max_length=MAX_SEARCH_LENGTH)  # NUL: PostgreSQL's DataError


SNAPSHOT_LEVELS = frozenset({"REPEATABLE READ", "SERIALIZABLE"})


def _begin_repeatable_read(session: Session) -> None:
    """Make the session's transaction REPEATABLE READ, so every statement reads one snapshot.

    A fresh transaction is pinned to REPEATABLE READ (SQLAlchemy restores the connection's level
    when
    it is released). A transaction already under way keeps its level, which must then be a snapshot
    level — a READ COMMITTED one would silently read the page and the total from two snapshots.
    """
    if not session.in_transaction():
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        return
    level = session.connection().get_isolation_level()
    if level not in SNAPSHOT_LEVELS:
        raise RuntimeError(
            f"find_many needs one snapshot but the session's transaction is {level}; "
            "call it at the start of a transaction (after commit/rollback) or use a "
            "REPEATABLE READ session"
        )


def find_many(
    session: Session,
    search: str | None = None,
    page: int = 1,
    limit: int = 20,
    status: UserStatus | None = None,
) -> UserPage:
    """Page ``page`` of users (newest first) matching ``search`` and ``status``, plus the total.

    Must start the session's transaction (it sets REPEATABLE READ on it); the transaction is left
    open
    for the caller to end, like any other session read.
    """
    _validate(search, page, limit)
    _begin_repeatable_read(session)
    conditions: list[ColumnElement[bool]] = []
    if search:
        conditions.append(search_condition(search))
    if status is not None:
        conditions.append(User.status == status)
    rows = session.execute(
        select(*PUBLIC_COLUMNS)
        .where(*conditions)
        .order_by(User.created_at.desc(), User.id.desc())
        .limit(limit)
        .offset((page - 1) * limit)
    ).all()
    total = session.execute(select(func.count()).select_from(User).where(*conditions)).scalar_one()
    items = [
        UserSummary(r.id, r.email, r.name, UserStatus(r.status), UserRole(r.role), r.created_at)
        for r in rows
    ]
    return UserPage(items=items, total=total, page=page, limit=limit)
