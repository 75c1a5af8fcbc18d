"""The guide's GraphQL schema, resolvers and DataLoader, ported to strawberry — defects kept.

``GUIDE_SDL`` is the guide's SDL verbatim: it does not build (seven types are never defined). The
runnable port below fills those gaps the way the SDL's field lists imply and keeps every behaviour
the guide wrote or left out:

* ``PageInfo`` has no ``startCursor``; ``OrderConnection.totalCount`` runs a ``COUNT`` per page;
* ``first`` is unbounded and there is no depth or token limit;
* ``user(id)`` has no authorization (only ``me`` checks the caller);
* ``User.orders`` queries once per parent user (N+1) — the guide's DataLoader covers users only;
* ``orderStatusChanged(userId)`` lets anyone subscribe to anyone's orders;
* the DataLoader's map is keyed by the row id type (UUID) but looked up by the GraphQL ``ID`` (str),
  so every result is ``None``; it has no ``max_batch_size``; and the loaders are created once and
  shared by every request, so one caller's cached rows answer the next caller.

Never imported by ``reference/``; tests in ``tests/api_design/test_graphql_port.py`` show each
defect, and ``reference/api_design/graphql`` fixes them.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from datetime import datetime

import graphql
import strawberry
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.dataloader import DataLoader
from strawberry.types import Info

from reference.api_design.auth import Principal
from reference.api_design.graphql.events import listen_order_status
from reference.databases.models import Order, User

GUIDE_SDL = """
  type User {
    id: ID!
    email: String!
    name: String!
    profile: Profile
    orders(first: Int, after: String): OrderConnection!
    createdAt: DateTime!
  }

  type OrderConnection {
    edges: [OrderEdge!]!
    pageInfo: PageInfo!
    totalCount: Int!
  }

  type PageInfo {
    hasNextPage: Boolean!
    hasPreviousPage: Boolean!
    endCursor: String
  }

  input CreateUserInput {
    email: String!
    name: String!
    password: String!
  }

  type Query {
    user(id: ID!): User
    users(first: Int, after: String): UserConnection!
    me: User
  }

  type Mutation {
    createUser(input: CreateUserInput!): UserPayload!
    updateUser(id: ID!, input: UpdateUserInput!): UserPayload!
  }

  type Subscription {
    orderStatusChanged(userId: ID!): Order!
  }
"""


def build_guide_sdl() -> graphql.GraphQLSchema:
    """Build the guide's SDL as written — raises ``TypeError`` naming an undefined type."""
    return graphql.build_schema(GUIDE_SDL)


# --- the guide's DataLoader ------------------------------------------------------------------


async def guide_batch_users(
    sessions: async_sessionmaker[AsyncSession], ids: list[str]
) -> list[User | None]:
    """``new DataLoader(async (ids: string[]) => …)`` — the map is keyed by the wrong type."""
    async with sessions() as session:
        users = (await session.scalars(select(User).where(User.id.in_(ids)))).all()
    user_map = {u.id: u for u in users}  # keys are uuid.UUID …
    return [user_map.get(id) for id in ids]  # type: ignore[call-overload]  # … by str: None


@dataclass
class GuideLoaders:
    user_loader: DataLoader[str, User | None]


def create_loaders(sessions: async_sessionmaker[AsyncSession]) -> GuideLoaders:
    """``createLoaders()`` — no ``maxBatchSize``."""

    async def load(ids: list[str]) -> list[User | None]:
        return await guide_batch_users(sessions, ids)

    return GuideLoaders(user_loader=DataLoader(load_fn=load))


_SHARED_LOADERS: dict[int, GuideLoaders] = {}


class GuideContext:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        principal: Principal | None,
        listen_url: str,
    ) -> None:
        self.sessions = sessions
        self.principal = principal
        self.listen_url = listen_url
        # The mistake: loaders made once and reused by every request (one set per database here).
        self.loaders = _SHARED_LOADERS.setdefault(id(sessions), create_loaders(sessions))


# --- the runnable schema ---------------------------------------------------------------------


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    end_cursor: str | None


@strawberry.type(name="Order")
class GuideOrder:
    id: strawberry.ID
    status: str
    total_cents: int
    created_at: datetime
    owner_id: strawberry.Private[uuid.UUID]

    @strawberry.field
    async def user(self, info: Info[GuideContext, None]) -> GuideUser | None:
        async with info.context.sessions() as session:
            found = await session.get(User, self.owner_id)
        return GuideUser.from_model(found) if found else None

    @classmethod
    def from_model(cls, order: Order) -> GuideOrder:
        return cls(
            id=strawberry.ID(str(order.id)),
            status=order.status.value,
            total_cents=order.total_cents,
            created_at=order.created_at,
            owner_id=order.user_id,
        )


@strawberry.type
class OrderEdge:
    cursor: str
    node: GuideOrder


@strawberry.type
class OrderConnection:
    edges: list[OrderEdge]
    page_info: PageInfo
    total_count: int


@strawberry.type(name="User")
class GuideUser:
    id: strawberry.ID
    email: str
    name: str
    created_at: datetime

    @strawberry.field
    async def orders(
        self, info: Info[GuideContext, None], first: int | None = None, after: str | None = None
    ) -> OrderConnection:
        # orderAPI.getOrdersByUser(parent.id, { first, after }) — once per parent user.
        offset = int(after) if after else 0
        async with info.context.sessions() as session:
            query = (
                select(Order)
                .where(Order.user_id == uuid.UUID(self.id))
                .order_by(Order.created_at.desc())
                .offset(offset)
            )
            if first is not None:
                query = query.limit(first)
            rows = (await session.scalars(query)).all()
            total = await session.scalar(
                select(func.count()).select_from(Order).where(Order.user_id == uuid.UUID(self.id))
            )
        edges = [
            OrderEdge(cursor=str(offset + i + 1), node=GuideOrder.from_model(o))
            for i, o in enumerate(rows)
        ]
        return OrderConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=offset + len(rows) < (total or 0),
                has_previous_page=offset > 0,
                end_cursor=edges[-1].cursor if edges else None,
            ),
            total_count=total or 0,
        )

    @classmethod
    def from_model(cls, user: User) -> GuideUser:
        return cls(
            id=strawberry.ID(str(user.id)),
            email=user.email,
            name=user.name,
            created_at=user.created_at,
        )


@strawberry.type
class UserEdge:
    cursor: str
    node: GuideUser


@strawberry.type
class UserConnection:
    edges: list[UserEdge]
    page_info: PageInfo


@strawberry.type
class Query:
    @strawberry.field
    async def user(self, info: Info[GuideContext, None], id: strawberry.ID) -> GuideUser | None:
        # userAPI.getUser(id) — no check of who is asking.
        async with info.context.sessions() as session:
            found = await session.get(User, uuid.UUID(id))
        return GuideUser.from_model(found) if found else None

    @strawberry.field
    async def users(
        self, info: Info[GuideContext, None], first: int | None = None, after: str | None = None
    ) -> UserConnection:
        offset = int(after) if after else 0
        async with info.context.sessions() as session:
            query = select(User).order_by(User.created_at, User.id).offset(offset)
            if first is not None:
                query = query.limit(first)  # no upper bound
            rows = (await session.scalars(query)).all()
        edges = [
            UserEdge(cursor=str(offset + i + 1), node=GuideUser.from_model(u))
            for i, u in enumerate(rows)
        ]
        return UserConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=first is not None and len(rows) == first,
                has_previous_page=offset > 0,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )

    @strawberry.field
    async def me(self, info: Info[GuideContext, None]) -> GuideUser | None:
        if info.context.principal is None:
            raise PermissionError("Not authenticated")
        async with info.context.sessions() as session:
            found = await session.get(User, info.context.principal.user_id)
        return GuideUser.from_model(found) if found else None


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def order_status_changed(
        self, info: Info[GuideContext, None], user_id: strawberry.ID
    ) -> AsyncGenerator[GuideOrder, None]:
        # Whose orders? Whatever userId the client names.
        async for change in listen_order_status(info.context.listen_url, uuid.UUID(user_id)):
            yield GuideOrder(
                id=strawberry.ID(str(change.order_id)),
                status=change.status.value,
                total_cents=change.total_cents,
                created_at=change.created_at,
                owner_id=change.user_id,
            )


guide_schema = strawberry.Schema(query=Query, subscription=Subscription)  # no extensions
