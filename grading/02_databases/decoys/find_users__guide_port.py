"""Decoy for 02.3: the guide's Prisma findMany (guide/databases/user_service.py) behind the
exercise's interface — unescaped contains, created_at-only order, no bounds, two snapshots.

Caught by test_percent_is_matched_literally.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from guide.databases.user_service import find_many as guide_find_many

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
    found = guide_find_many(session, page=page, limit=limit, search=search)
    items = [UserListItem(u.id, u.email, u.name, u.created_at) for u in found["users"]]
    return UserList(items=items, total=found["total"], page=page, limit=limit)
