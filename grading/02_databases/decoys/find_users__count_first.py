"""Decoy for 02.3: the count sent first, then the page, both at READ COMMITTED — two snapshots, so a
user committed in between is on the page but not in the total. Caught by the one-snapshot test.

Caught by test_total_and_page_share_one_snapshot.
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
    where = []
    if search:
        where.append(
            or_(
                User.name.icontains(search, autoescape=True),
                User.email.icontains(search, autoescape=True),
            )
        )
    total = session.execute(select(func.count()).select_from(User).where(*where)).scalar_one()
    rows = session.execute(
        select(User.id, User.email, User.name, User.created_at)
        .where(*where)
        .order_by(User.created_at.desc(), User.id.desc())
        .limit(limit)
        .offset((page - 1) * limit)
    )
    items = [UserListItem(r.id, r.email, r.name, r.created_at) for r in rows]
    return UserList(items=items, total=total, page=page, limit=limit)
