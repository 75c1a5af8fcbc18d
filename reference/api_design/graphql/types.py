"""The GraphQL types: User, Order, Relay connections and mutation payloads.

Pattern: Relay cursor connections (``edges { cursor node }``, ``pageInfo { hasNextPage
hasPreviousPage startCursor endCursor }``) with a bounded ``first``; nested lists resolve through
the request's DataLoaders, never a query per parent. Mutations return payload types (``user`` plus
``errors``) so a validation problem is data the client renders, not an exception. Every type the
schema names is defined — the guide's SDL named seven it never declared. Taught in
``notebooks/01_api_design_graphql.ipynb``.
"""

from __future__ import annotations

import enum
import re
import uuid
from datetime import datetime

import strawberry
from strawberry.types import Info

from reference.api_design.graphql.context import Context
from reference.api_design.graphql.cursors import InvalidCursor, Keyset, decode_cursor, encode_cursor
from reference.api_design.graphql.errors import BadUserInput, shorten
from reference.api_design.graphql.events import OrderStatusChange
from reference.api_design.graphql.limits import DEFAULT_FIRST, check_first
from reference.api_design.graphql.loaders import OrdersKey
from reference.api_design.schemas import UUID_PATTERN
from reference.databases.models import Order, User


@strawberry.enum(name="UserStatus")
class UserStatusValue(enum.Enum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    SUSPENDED = "suspended"


@strawberry.enum(name="UserRole")
class UserRoleValue(enum.Enum):
    USER = "user"
    MANAGER = "manager"
    ADMIN = "admin"


@strawberry.enum(name="OrderStatus")
class OrderStatusValue(enum.Enum):
    PENDING = "pending"
    PAID = "paid"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


def parse_id(value: str, what: str = "id") -> uuid.UUID:
    """A GraphQL ``ID`` as a UUID, or a ``BAD_USER_INPUT`` error naming the argument.

    By the REST app's rule (:data:`~reference.api_design.schemas.UUID_PATTERN`, as gRPC): only the
    canonical spelling every API returns is an id. ``uuid.UUID`` also reads ``{…}``, ``urn:uuid:``,
    undashed and upper-case spellings, which would give one user several ids here while REST and
    gRPC refuse them.
    """
    if not re.fullmatch(UUID_PATTERN, value):
        raise BadUserInput(
            f"{what} must be a UUID in canonical form (lower-case 8-4-4-4-12 hex), "
            f"got {shorten(value)!r}"
        )
    return uuid.UUID(value)


def parse_after(after: str | None) -> Keyset | None:
    if after is None:
        return None
    try:
        return decode_cursor(after)
    except InvalidCursor:
        raise BadUserInput("after is not a cursor this API returned") from None


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type(name="Order")
class OrderType:
    id: strawberry.ID
    status: OrderStatusValue
    total_cents: int
    created_at: datetime
    owner_id: strawberry.Private[uuid.UUID]

    @strawberry.field
    async def user(self, info: Info[Context, None]) -> UserType | None:
        found = await info.context.loaders.users.load(self.owner_id)
        return UserType.from_model(found) if found is not None else None

    @classmethod
    def from_model(cls, order: Order) -> OrderType:
        return cls(
            id=strawberry.ID(str(order.id)),
            status=OrderStatusValue(order.status.value),
            total_cents=order.total_cents,
            created_at=order.created_at,
            owner_id=order.user_id,
        )

    @classmethod
    def from_event(cls, change: OrderStatusChange) -> OrderType:
        return cls(
            id=strawberry.ID(str(change.order_id)),
            status=OrderStatusValue(change.status.value),
            total_cents=change.total_cents,
            created_at=change.created_at,
            owner_id=change.user_id,
        )


@strawberry.type
class OrderEdge:
    cursor: str
    node: OrderType


@strawberry.type
class OrderConnection:
    edges: list[OrderEdge]
    page_info: PageInfo


@strawberry.type(name="User")
class UserType:
    id: strawberry.ID
    email: str
    name: str
    status: UserStatusValue
    role: UserRoleValue
    created_at: datetime
    pk: strawberry.Private[uuid.UUID]

    @strawberry.field
    async def orders(
        self, info: Info[Context, None], first: int = DEFAULT_FIRST, after: str | None = None
    ) -> OrderConnection:
        """This user's orders, newest first."""
        check_first(first)
        rows = await info.context.loaders.orders.load(
            OrdersKey(user_id=self.pk, limit=first + 1, before=parse_after(after))
        )
        edges = [
            OrderEdge(
                cursor=encode_cursor(Keyset(o.created_at, o.id)), node=OrderType.from_model(o)
            )
            for o in rows[:first]
        ]
        return OrderConnection(edges=edges, page_info=page_info(edges, len(rows) > first, after))

    @classmethod
    def from_model(cls, user: User) -> UserType:
        return cls(
            id=strawberry.ID(str(user.id)),
            email=user.email,
            name=user.name,
            status=UserStatusValue(user.status.value),
            role=UserRoleValue(user.role.value),
            created_at=user.created_at,
            pk=user.id,
        )


@strawberry.type
class UserEdge:
    cursor: str
    node: UserType


@strawberry.type
class UserConnection:
    edges: list[UserEdge]
    page_info: PageInfo


def page_info(
    edges: list[UserEdge] | list[OrderEdge], has_next: bool, after: str | None
) -> PageInfo:
    return PageInfo(
        has_next_page=has_next,
        has_previous_page=after is not None,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None,
    )


@strawberry.type
class UserError:
    """A problem the client can show next to a form field."""

    field: str | None
    code: str
    message: str


@strawberry.input
class CreateUserInput:
    email: str
    name: str
    password: str


@strawberry.input
class UpdateUserInput:
    name: str | None = None
    email: str | None = None


@strawberry.type
class CreateUserPayload:
    user: UserType | None
    errors: list[UserError]


@strawberry.type
class UpdateUserPayload:
    user: UserType | None
    errors: list[UserError]


@strawberry.type
class UpdateOrderStatusPayload:
    order: OrderType | None
    errors: list[UserError]
