"""Decoy for 01.5: fixes the guide's type mismatch by keying the map with ``str(row.id)`` and reading
it with the raw key — an upper-case key misses its user; caught by test_any_spelling_of_a_uuid….

Caught by test_any_spelling_of_a_uuid_finds_its_row.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from reference.databases.models import User


async def load_users(
    sessions: async_sessionmaker[AsyncSession], keys: Sequence[str]
) -> list[User | None]:
    ids: set[uuid.UUID] = set()
    for key in keys:
        with contextlib.suppress(ValueError):
            ids.add(uuid.UUID(key))
    if not ids:
        return [None for _ in keys]
    async with sessions() as session:
        rows = (await session.scalars(select(User).where(User.id.in_(ids)))).all()
    by_id = {str(row.id): row for row in rows}
    return [by_id.get(key) for key in keys]
