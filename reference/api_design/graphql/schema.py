"""The schema: queries with authorization, payload mutations, a caller-scoped subscription, limits.

Pattern: authorize at every entry point (``user(id)`` checks the caller exactly like ``me`` does —
the guide only protected ``me``); subscriptions take their scope from the authenticated caller,
never from an argument, and run only over a subscription transport (WebSocket), never as a plain
query; ``QueryDepthLimiter``, ``MaxTokensLimiter``, ``MaxAliasesLimiter`` and the query-cost check
of :class:`~reference.api_design.graphql.preparation.OffLoopPreparation` reject expensive documents
before execution, parsed and validated off the event loop; ``ClientSafeErrors`` hides unexpected
exception text and cuts long messages. Taught in ``notebooks/01_api_design_graphql.ipynb``.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterable
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter
from strawberry.schema.schema import DEFAULT_ALLOWED_OPERATION_TYPES
from strawberry.types import ExecutionContext, ExecutionResult, Info
from strawberry.types.graphql import OperationType
from strawberry.utils.logging import StrawberryLogger

from reference.api_design.graphql import queries, writes
from reference.api_design.graphql.context import Context, require_principal
from reference.api_design.graphql.cursors import Keyset, encode_cursor
from reference.api_design.graphql.errors import ClientSafeErrors, Forbidden, NotFound, PublicError
from reference.api_design.graphql.events import listen_order_status
from reference.api_design.graphql.limits import (
    DEFAULT_FIRST,
    MAX_ALIASES,
    MAX_DEPTH,
    MAX_TOKENS,
    check_first,
    query_cost,
)
from reference.api_design.graphql.preparation import CostFunction, OffLoopPreparation
from reference.api_design.graphql.types import (
    CreateUserInput,
    CreateUserPayload,
    OrderStatusValue,
    OrderType,
    UpdateOrderStatusPayload,
    UpdateUserInput,
    UpdateUserPayload,
    UserConnection,
    UserEdge,
    UserError,
    UserType,
    page_info,
    parse_after,
    parse_id,
)
from reference.databases.models import OrderStatus


def _errors(problems: list[writes.Problem]) -> list[UserError]:
    return [UserError(field=p.field, code=p.code, message=p.message) for p in problems]


@strawberry.type
class Query:
    @strawberry.field
    async def me(self, info: Info[Context, None]) -> UserType | None:
        """The signed-in user."""
        principal = require_principal(info)
        found = await info.context.loaders.users.load(principal.user_id)
        return UserType.from_model(found) if found is not None else None

    @strawberry.field
    async def user(self, info: Info[Context, None], id: strawberry.ID) -> UserType | None:
        """A user: yourself, or anyone if you are staff."""
        principal = require_principal(info)
        user_id = parse_id(id)
        if user_id != principal.user_id and not principal.is_staff:
            raise Forbidden("you may only read your own user")
        found = await info.context.loaders.users.load(user_id)
        return UserType.from_model(found) if found is not None else None

    @strawberry.field
    async def users(
        self, info: Info[Context, None], first: int = DEFAULT_FIRST, after: str | None = None
    ) -> UserConnection:
        """Every user, oldest first (staff only)."""
        principal = require_principal(info)
        if not principal.is_staff:
            raise Forbidden("listing users is for staff")
        check_first(first)
        async with info.context.sessions() as session:
            rows = await queries.users_page(session, first + 1, parse_after(after))
        for row in rows:  # later User lookups in this request are free
            info.context.loaders.users.prime(row.id, row)
        edges = [
            UserEdge(cursor=encode_cursor(Keyset(u.created_at, u.id)), node=UserType.from_model(u))
            for u in rows[:first]
        ]
        return UserConnection(edges=edges, page_info=page_info(edges, len(rows) > first, after))


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def create_user(
        self, info: Info[Context, None], input: CreateUserInput
    ) -> CreateUserPayload:
        """Sign up. Problems with the input come back in errors."""
        user, problems = await writes.create_user(
            info.context.sessions, input.email, input.name, input.password
        )
        return CreateUserPayload(
            user=UserType.from_model(user) if user else None, errors=_errors(problems)
        )

    @strawberry.mutation
    async def update_user(
        self, info: Info[Context, None], id: strawberry.ID, input: UpdateUserInput
    ) -> UpdateUserPayload:
        """Change your own name or email (staff: anyone's)."""
        principal = require_principal(info)
        user_id = parse_id(id)
        if user_id != principal.user_id and not principal.is_staff:
            raise Forbidden("you may only change your own user")
        user, problems = await writes.update_user(
            info.context.sessions, user_id, input.name, input.email
        )
        if user is None:
            raise NotFound(f"no user with id {user_id}")
        return UpdateUserPayload(
            user=None if problems else UserType.from_model(user), errors=_errors(problems)
        )

    @strawberry.mutation
    async def update_order_status(
        self, info: Info[Context, None], id: strawberry.ID, status: OrderStatusValue
    ) -> UpdateOrderStatusPayload:
        """Move an order to a new status (staff only)."""
        principal = require_principal(info)
        if not principal.is_staff:
            raise Forbidden("changing an order's status is for staff")
        order_id = parse_id(id)
        order = await writes.update_order_status(
            info.context.sessions, order_id, OrderStatus(status.value)
        )
        if order is None:
            raise NotFound(f"no order with id {order_id}")
        return UpdateOrderStatusPayload(order=OrderType.from_model(order), errors=[])


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def order_status_changed(
        self, info: Info[Context, None]
    ) -> AsyncGenerator[OrderType, None]:
        """Status changes of YOUR orders (no argument: scope = you)."""
        principal = require_principal(info)
        with info.context.subscriptions.slot():  # RESOURCE_EXHAUSTED when the server is full
            async for change in listen_order_status(info.context.listen_url, principal.user_id):
                yield OrderType.from_event(change)


class CourseSchema(strawberry.Schema):
    """Runs subscriptions only as subscriptions, and logs only the server's faults (a client's
    FORBIDDEN or too-deep query is not an incident)."""

    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        """``execute`` returns one result, so a subscription is not allowed here — over HTTP POST
        strawberry would resolve its async generator as a value ("Unexpected error."); refused,
        the HTTP view answers 400 "subscriptions are not allowed when using POST"."""
        allowed = set(allowed_operation_types or DEFAULT_ALLOWED_OPERATION_TYPES)
        return await super().execute(
            query,
            variable_values,
            context_value,
            root_value,
            operation_name,
            allowed - {OperationType.SUBSCRIPTION},
            operation_extensions,
        )

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            original = error.original_error
            # Parse/validation errors (no original_error), variables that do not coerce (a
            # GraphQLError) and PublicErrors are the client's doing.
            if original is not None and not isinstance(original, PublicError | GraphQLError):
                StrawberryLogger.error(error, execution_context)


def build_schema(cost: CostFunction = query_cost) -> strawberry.Schema:
    """The course's GraphQL schema with its cost limits installed; ``cost`` prices a document
    (exercise 01.9 passes the learner's)."""
    return CourseSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=[
            lambda: QueryDepthLimiter(max_depth=MAX_DEPTH),
            lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
            lambda: MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
            lambda: OffLoopPreparation(cost=cost),
            ClientSafeErrors,
        ],
    )


schema = build_schema()
