"""The SQL behind the GraphQL resolvers and loaders — each function is one statement.

Pattern: batch-shaped queries. ``users_by_ids`` and ``orders_for_users`` take *many* keys and answer
in one round trip (``= ANY(:ids)``, and a ``row_number()`` window for "the newest N orders of each
user", served by ``ix_orders_user_id_created_at``). Pages are keysets on ``(created_at, id)`` and
fetch one extra row to learn ``hasNextPage`` — no ``COUNT(*)`` per page (the guide's ``totalCount!``
forced one). Taught in ``notebooks/01_api_design_graphql.ipynb``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import ColumnElement, and_, func, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from reference.api_design.graphql.cursors import Keyset
from reference.databases.models import Order, User


async def users_page(session: AsyncSession, limit: int, after: Keyset | None) -> list[User]:
    """Up to ``limit`` users after ``after`` in ``(created_at, id)`` order."""
    query = select(User).order_by(User.created_at, User.id).limit(limit)
    if after is not None:
        query = query.where(tuple_(User.created_at, User.id) > tuple_(after.created_at, after.id))
    return list((await session.scalars(query)).all())


async def users_by_ids(session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[User]:
    """The users among ``ids`` that exist, in no particular order."""
    if not ids:
        return []
    return list((await session.scalars(select(User).where(User.id.in_(list(ids))))).all())


async def orders_for_users(
    session: AsyncSession, user_ids: Sequence[uuid.UUID], limit: int, before: Keyset | None
) -> list[Order]:
    """For each user, up to ``limit`` orders newest first, older than ``before`` — one statement.

    ``before`` is the keyset of the last order already shown (the connection's ``after`` cursor;
    orders page newest → oldest).
    """
    if not user_ids:
        return []
    condition: ColumnElement[bool] = Order.user_id.in_(list(user_ids))
    if before is not None:
        condition = and_(
            condition,
            or_(
                Order.created_at < before.created_at,
                and_(Order.created_at == before.created_at, Order.id < before.id),
            ),
        )
    rank = (
        func.row_number()
        .over(partition_by=Order.user_id, order_by=(Order.created_at.desc(), Order.id.desc()))
        .label("rank")
    )
    ranked = select(Order.id, rank).where(condition).subquery()
    query = (
        select(Order)
        .join(ranked, ranked.c.id == Order.id)
        .where(ranked.c.rank <= limit)
        .order_by(Order.user_id, Order.created_at.desc(), Order.id.desc())
    )
    return list((await session.scalars(query)).all())
