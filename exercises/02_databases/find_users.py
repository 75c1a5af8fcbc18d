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
    # TODO: validate page, limit and search; select the public columns of the matching users
    # (search as literal text, case-insensitive, on name or email) in a stable newest-first order,
    # one page of them, and count all matches — both reads from the same snapshot.
    raise NotImplementedError
