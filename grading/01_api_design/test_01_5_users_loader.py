"""Grading for exercise 01.5: a DataLoader batch function (exercises/01_api_design/users_loader.py)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from functools import partial
from types import ModuleType

import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from strawberry.dataloader import DataLoader

from reference.api_design.graphql.app import make_engine, make_sessions
from reference.api_design.graphql.seed import Seeded, seed_users_with_orders
from reference.api_design.graphql.statements import count_statements
from reference.databases.migrate import upgrade


@pytest.fixture
def seeded(pg_url: str) -> Seeded:
    upgrade(pg_url)
    return seed_users_with_orders(pg_url, users=40, orders_per_user=0)


@pytest_asyncio.fixture
async def engine(pg_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(pg_url)
    async with engine.connect():
        pass
    yield engine
    await engine.dispose()


def loader(exercise: ModuleType, sessions: async_sessionmaker[AsyncSession]) -> DataLoader:  # type: ignore[type-arg]
    return DataLoader(load_fn=partial(exercise.load_users, sessions))


def names(users: list[object]) -> list[str | None]:
    return [getattr(u, "name", None) if u is not None else None for u in users]


@pytest.mark.asyncio
async def test_keeps_key_order_and_answers_none_for_a_miss(
    exercise: ModuleType, seeded: Seeded, engine: AsyncEngine
) -> None:
    """load_many([b, a, missing, a]) must give [B, A, None, A]: one result per key, in the keys'
    order, None for an id nobody has. Keys are strings, as GraphQL IDs are."""
    a, b = str(seeded.user_ids[0]), str(seeded.user_ids[1])
    missing = str(uuid.uuid4())
    found = await loader(exercise, make_sessions(engine)).load_many([b, a, missing, a])
    assert names(found) == ["User 2", "User 1", None, "User 1"]


@pytest.mark.asyncio
async def test_one_query_for_the_whole_batch(
    exercise: ModuleType, seeded: Seeded, engine: AsyncEngine
) -> None:
    """The point of a DataLoader: 3 distinct keys (or 40) cost ONE SQL statement, not one each."""
    a, b = str(seeded.user_ids[0]), str(seeded.user_ids[1])
    with count_statements(engine) as log:
        await loader(exercise, make_sessions(engine)).load_many([b, a, str(uuid.uuid4()), a])
    assert log.count == 1, f"expected 1 statement, saw {log.count}"
    keys = [str(i) for i in seeded.user_ids]
    with count_statements(engine) as log:
        found = await loader(exercise, make_sessions(engine)).load_many(keys)
    assert log.count == 1, f"40 keys: expected 1 statement, saw {log.count}"
    assert names(found) == [f"User {n}" for n in range(1, 41)]


@pytest.mark.asyncio
async def test_string_keys_find_their_rows(
    exercise: ModuleType, seeded: Seeded, engine: AsyncEngine
) -> None:
    """Rows come back with uuid.UUID ids while the keys are str. If your lookup map is keyed by one
    type and read with the other, every result is None — the guide's bug."""
    found = await exercise.load_users(make_sessions(engine), [str(seeded.user_ids[2])])
    assert names(found) == ["User 3"]


@pytest.mark.asyncio
async def test_any_spelling_of_a_uuid_finds_its_row(
    exercise: ModuleType, seeded: Seeded, engine: AsyncEngine
) -> None:
    """A key is any text uuid.UUID() accepts: 'A1B2…' in upper case names the same user as
    'a1b2…'. Keying your lookup map by str(row.id) and reading it with the raw key misses it;
    key the map by the parsed UUID and look up each key by its parsed UUID."""
    a, b = seeded.user_ids[0], seeded.user_ids[1]
    found = await exercise.load_users(make_sessions(engine), [str(a).upper(), str(b)])
    assert names(found) == ["User 1", "User 2"]


@pytest.mark.asyncio
async def test_a_key_that_is_not_a_uuid_is_a_miss_not_an_error(
    exercise: ModuleType, seeded: Seeded, engine: AsyncEngine
) -> None:
    """'x' cannot be anybody's id: its slot is None, the other keys still resolve, and it must not
    crash the batch (PostgreSQL would reject 'x' as a uuid)."""
    a = str(seeded.user_ids[0])
    found = await exercise.load_users(make_sessions(engine), ["x", a, "x"])
    assert names(found) == [None, "User 1", None]
    with count_statements(engine) as log:
        only_bad = await exercise.load_users(make_sessions(engine), ["x", "not-a-uuid"])
    assert only_bad == [None, None]
    assert log.count == 0, "keys that are not UUIDs should not cost a query"


@pytest.mark.asyncio
async def test_duplicate_keys_each_get_their_row(
    exercise: ModuleType, seeded: Seeded, engine: AsyncEngine
) -> None:
    """Called directly (a loader with caching off does this), duplicates each get the row."""
    a = str(seeded.user_ids[0])
    found = await exercise.load_users(make_sessions(engine), [a, a, a])
    assert names(found) == ["User 1", "User 1", "User 1"]
