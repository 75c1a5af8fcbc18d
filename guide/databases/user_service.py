"""The guide's Prisma ``UserService.findMany``, ported to SQLAlchemy as written.

Prisma → SQLAlchemy: ``contains`` + ``mode: 'insensitive'`` → ``ILIKE '%' || search || '%'`` with
the
search pasted in unescaped (what Prisma sends; prisma/orm#19506); ``skip``/``take`` → OFFSET/LIMIT;
the array ``$transaction([findMany, count])`` → two statements in one READ COMMITTED transaction;
``include: { profile: true }`` is dropped (the guide never defines ``Profile``).

Defects kept (guide-defects §2.9), each shown by ``tests/databases/test_guide_ports.py``:

- ``%`` and ``_`` in ``search`` are wildcards: ``"50%"`` matches ``"500 club"``;
- ``ORDER BY created_at`` alone: rows sharing a timestamp come back in any order, so pages overlap;
- ``page=0`` gives a negative OFFSET, which the database rejects with an error a client never sees
  explained; ``limit`` is unbounded;
- whole ``User`` rows are returned — ``password_hash`` included;
- at READ COMMITTED each statement takes a new snapshot: a row committed between the page and the
  count makes ``total`` disagree with the page.

The fix is ``reference/databases/user_service.py``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from reference.databases.models import User, UserStatus


def find_many(
    session: Session,
    page: int = 1,
    limit: int = 20,
    status: UserStatus | None = None,
    search: str | None = None,
) -> dict[str, Any]:
    where = []
    if status:
        where.append(User.status == status)
    if search:
        where.append(or_(User.name.ilike(f"%{search}%"), User.email.ilike(f"%{search}%")))

    users = session.scalars(
        select(User)
        .where(*where)
        .offset((page - 1) * limit)
        .limit(limit)
        .order_by(User.created_at.desc())
    ).all()
    total = session.execute(select(func.count()).select_from(User).where(*where)).scalar_one()
    return {"users": list(users), "total": total, "page": page, "limit": limit}
