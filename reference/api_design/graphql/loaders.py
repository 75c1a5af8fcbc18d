"""DataLoaders for users-by-id and orders-by-user, created per request.

Pattern: the DataLoader. Resolvers call ``load(key)``; the loader collects every key asked for in
the same tick and calls the batch function once, so ``users(first: 50) { … orders(first: 5) }``
costs one orders statement instead of fifty. A batch function must return one result per key, *in
key order*, ``None``/``[]`` for keys with no row — so results are looked up by the same type as the
keys (the guide's map was keyed by a different type than its lookups, so every result was null).

Loaders cache per key, so they must live for ONE request: ``make_loaders`` is called by the context
getter for every request; a module-level loader would serve one caller's rows to the next and go
stale. ``max_batch_size`` keeps the ``IN`` list bounded. Taught in
``notebooks/01_api_design_graphql.ipynb``.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.dataloader import DataLoader

from reference.api_design.graphql import queries
from reference.api_design.graphql.cursors import Keyset
from reference.databases.models import Order, User

MAX_BATCH_SIZE = 100


@dataclass(frozen=True)
class OrdersKey:
    """One user's page of orders: who, how many rows to fetch, and the keyset to continue from."""

    user_id: uuid.UUID
    limit: int
    before: Keyset | None = None


async def load_users(
    sessions: async_sessionmaker[AsyncSession], keys: Sequence[uuid.UUID]
) -> list[User | None]:
    """One result per key, in key order; ``None`` where no user has that id."""
    async with sessions() as session:
        rows = await queries.users_by_ids(session, list(dict.fromkeys(keys)))
    by_id = {user.id: user for user in rows}  # keys and map share one type: uuid.UUID
    return [by_id.get(key) for key in keys]


async def load_orders(
    sessions: async_sessionmaker[AsyncSession], keys: Sequence[OrdersKey]
) -> list[list[Order]]:
    """Each key's orders (``[]`` for unknown users); one statement per distinct (limit, before)."""
    groups: dict[tuple[int, Keyset | None], list[uuid.UUID]] = defaultdict(list)
    for key in keys:
        groups[(key.limit, key.before)].append(key.user_id)
    found: dict[OrdersKey, list[Order]] = defaultdict(list)
    async with sessions() as session:
        for (limit, before), user_ids in groups.items():
            for order in await queries.orders_for_users(session, user_ids, limit, before):
                found[OrdersKey(order.user_id, limit, before)].append(order)
    return [found.get(key, []) for key in keys]


@dataclass(frozen=True)
class Loaders:
    users: DataLoader[uuid.UUID, User | None]
    orders: DataLoader[OrdersKey, list[Order]]


def make_loaders(sessions: async_sessionmaker[AsyncSession]) -> Loaders:
    """Fresh loaders (fresh caches) — call once per request, never share between callers."""

    async def users(keys: list[uuid.UUID]) -> list[User | None]:
        return await load_users(sessions, keys)

    async def orders(keys: list[OrdersKey]) -> list[list[Order]]:
        return await load_orders(sessions, keys)

    return Loaders(
        users=DataLoader(load_fn=users, max_batch_size=MAX_BATCH_SIZE),
        orders=DataLoader(load_fn=orders, max_batch_size=MAX_BATCH_SIZE),
    )
