"""Decoy for 01.5: right answers in the right order, but one ``session.get()`` per key — the N+1 the
DataLoader exists to remove; caught by test_one_query_for_the_whole_batch."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from reference.databases.models import User


async def load_users(
    sessions: async_sessionmaker[AsyncSession], keys: Sequence[str]
) -> list[User | None]:
    results: list[User | None] = []
    async with sessions() as session:
        for key in keys:
            try:
                user_id = uuid.UUID(key)
            except ValueError:
                results.append(None)
                continue
            results.append(await session.get(User, user_id))
    return results
