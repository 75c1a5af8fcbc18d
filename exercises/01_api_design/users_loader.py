"""Taught in notebooks/01_api_design_graphql.ipynb §3.

Exercise 01.5: a DataLoader batch function that keeps key order and answers None for misses.

A DataLoader collects every ``load(key)`` made in one tick and calls your batch function ONCE with all
the keys. The contract is strict: return exactly one result per key, in the same order as the keys,
``None`` where there is no such user. GraphQL ``ID`` arguments arrive as strings, while the rows'
ids are ``uuid.UUID`` — the guide built its lookup map keyed by one type and looked it up with the
other, so every result was null. A key is any text ``uuid.UUID()`` accepts (upper case too: it names
the same user as lower case); keys that are not UUIDs at all are simply misses (``None``), not
errors, and must not reach the database.

Write ``load_users``: one ``SELECT`` for all the distinct valid ids, then the results in key order.
Use ``async with sessions() as session:`` to get a session; ``reference.databases.models.User`` is the
model.
"""

from __future__ import annotations

import contextlib  # noqa: F401, RUF100 - for your solution
import uuid  # noqa: F401, RUF100 - for your solution
from collections.abc import Sequence

from sqlalchemy import select  # noqa: F401, RUF100 - for your solution
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from reference.databases.models import User


async def load_users(
    sessions: async_sessionmaker[AsyncSession], keys: Sequence[str]
) -> list[User | None]:
    """One ``User`` or ``None`` per key, in the order of ``keys``, fetched with one query."""
    # TODO: turn the string keys into UUIDs (a key that is not a UUID is a miss), fetch all the
    # distinct ids with ONE query, and return one User or None per key, in the order of the keys.
    raise NotImplementedError
