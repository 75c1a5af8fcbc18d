"""Decoy for 01.5, from the guide: ``new Map(users.map(u => [u.id, u]))`` looked up with the string
keys — the map's keys are UUIDs, so every result is None (and 'x' reaches PostgreSQL). It must fail.

Caught by test_keeps_key_order_and_answers_none_for_a_miss.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from guide.api_design.graphql_port import guide_batch_users
from reference.databases.models import User


async def load_users(
    sessions: async_sessionmaker[AsyncSession], keys: Sequence[str]
) -> list[User | None]:
    return await guide_batch_users(sessions, list(keys))
