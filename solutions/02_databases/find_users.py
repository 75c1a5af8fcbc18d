"""Taught in notebooks/02_databases_orm.ipynb §2.

Exercise 02.3: ``find_many`` — the user list behind ``GET /users?search=&page=&limit=``.

The guide's Prisma ``findMany`` (ported in ``guide/databases/user_service.py``) looks fine and is
wrong in six ways. Write the version you would put behind an API:

- ``search`` matches ``name`` or ``email`` case-insensitively, as *literal text*: ``"50%"`` finds
  "50% off", not "500 club" (``%`` and ``_`` are LIKE wildcards unless escaped);
- newest first, and stable: ordered by ``created_at`` descending, then ``id`` descending, so pages
  never overlap or skip when timestamps tie;
- ``page`` starts at 1; ``page < 1`` or a ``limit`` outside ``1…MAX_LIMIT`` raises ``ValueError``,
  and so do a page whose OFFSET is past PostgreSQL's ``bigint`` (``BIGINT_MAX``) and a ``search``
  containing NUL (PostgreSQL text cannot hold it) — the database would refuse both with a
  ``DataError``, which an API answers with a 500;
- the items carry only ``id, email, name, created_at`` — never select ``password_hash``;
- ``total`` counts every match, and it must agree with the page: read both from ONE snapshot, even
  if another transaction commits a new user between your two queries (whichever you send first);
- the database pages and counts: no statement returns more rows than the page holds (fetching every
  match to ``len()`` and slice it moves the whole table for one page).

Use the ORM model ``reference.databases.models.User`` and a SQLAlchemy ``Session``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select  # noqa: F401, RUF100 - for your solution
from sqlalchemy.orm import Session

from reference.databases.bounds import BIGINT_MAX  # noqa: F401, RUF100 - for your solution
from reference.databases.models import User  # noqa: F401, RUF100 - for your solution

MAX_LIMIT = 100


@dataclass(frozen=True)
class UserListItem:
    id: uuid.UUID
    email: str
    name: str
    created_at: datetime


@dataclass(frozen=True)
class UserList:
    items: list[UserListItem]
    total: int
    page: int
    limit: int


def find_many(
    session: Session, search: str | None = None, page: int = 1, limit: int = 20
) -> UserList:
    """Page ``page`` of the users matching ``search`` (all users when None/empty), and the total.

    ``session`` is fresh (no transaction begun yet); leave its transaction open when you return.
    """
    if isinstance(page, bool) or not isinstance(page, int) or page < 1:
        raise ValueError("page must be an integer >= 1")
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be an integer between 1 and {MAX_LIMIT}")
    if (page - 1) * limit > BIGINT_MAX:
        raise ValueError("page is too deep: its OFFSET does not fit in a bigint")
    if search is not None and "\x00" in search:
        raise ValueError("search must not contain NUL characters")
    # One snapshot for both statements: set before the transaction's first query.
    session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    where = []
    if search:
        where.append(
            or_(
                User.name.icontains(search, autoescape=True),
                User.email.icontains(search, autoescape=True),
            )
        )
    rows = session.execute(
        select(User.id, User.email, User.name, User.created_at)
        .where(*where)
        .order_by(User.created_at.desc(), User.id.desc())
        .limit(limit)
        .offset((page - 1) * limit)
    )
    items = [UserListItem(r.id, r.email, r.name, r.created_at) for r in rows]
    total = session.execute(select(func.count()).select_from(User).where(*where)).scalar_one()
    return UserList(items=items, total=total, page=page, limit=limit)
