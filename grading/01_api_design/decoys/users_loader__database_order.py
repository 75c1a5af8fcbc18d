"""Decoy for 01.5: one query, right type — but returns the rows in the database's order, dropping
misses, so results land on the wrong keys. It must fail.

Caught by test_keeps_key_order_and_answers_none_for_a_miss.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from reference.databases.models import User


async def load_users(
    sessions: async_sessionmaker[AsyncSession], keys: Sequence[str]
) -> list[User | None]:
    ids = []
    for key in keys:
        try:
            ids.append(uuid.UUID(key))
        except ValueError:
            continue
    async with sessions() as session:
        return list((await session.scalars(select(User).where(User.id.in_(ids)))).all())
