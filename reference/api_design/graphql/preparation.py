"""Parse, validate and cost a GraphQL document in a worker thread, before anything executes.

Pattern: keep CPU work off the event loop. graphql-core parses and validates synchronously; inside
an async server that stalls *every* connection while one document is processed (a 5 MB comment
held the loop for seconds). :class:`OffLoopPreparation` does both in ``asyncio.to_thread`` and then
applies the request-level rules graphql-core leaves to the server:

* a document with several operations and no ``operationName`` is a request error (GraphQL spec,
  *GetOperation*) — strawberry would silently run the first one;
* a document whose :func:`~reference.api_design.graphql.limits.query_cost` is over ``MAX_COST`` is
  refused with ``QUERY_TOO_EXPENSIVE`` before a single resolver runs.

Strawberry skips its own parsing when an extension has set ``graphql_document``, and its own
validation when one has set ``pre_execution_errors``. A document that fails to parse is left to
strawberry, which reports the syntax error as usual (the body cap bounds that second parse). Taught
in ``notebooks/01_api_design_graphql.ipynb``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    parse,
    validate,
)
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from reference.api_design.graphql.limits import MAX_COST, query_cost

# (schema, document, variables, operation name) -> list items the document may produce.
CostFunction = Callable[[GraphQLSchema, DocumentNode, Mapping[str, Any] | None, str | None], int]


class OffLoopPreparation(SchemaExtension):
    """Parse and validate in a thread; refuse ambiguous and over-budget documents.

    ``cost`` is :func:`~reference.api_design.graphql.limits.query_cost` unless another is passed:
    exercise 01.9 grades a learner's cost function by installing it here."""

    requested_operation: str | None = None

    def __init__(
        self, *, execution_context: ExecutionContext | None = None, cost: CostFunction = query_cost
    ) -> None:
        super().__init__(execution_context=execution_context)
        self.cost = cost

    async def on_parse(self) -> AsyncIterator[None]:
        context = self.execution_context
        # Before a document exists, operation_name is only what the client sent; afterwards
        # strawberry falls back to the first operation's name.
        self.requested_operation = context.operation_name
        if context.graphql_document is None and context.query:
            with contextlib.suppress(GraphQLError):
                context.graphql_document = await asyncio.to_thread(
                    parse, context.query, **context.parse_options
                )
        yield

    async def on_validate(self) -> AsyncIterator[None]:
        context = self.execution_context
        if context.pre_execution_errors is None and context.graphql_document is not None:
            context.pre_execution_errors = await asyncio.to_thread(
                self.problems, context.graphql_document
            )
        yield

    def problems(self, document: DocumentNode) -> list[GraphQLError]:
        """Validation errors, else the request errors below, else none."""
        context = self.execution_context
        schema = context.schema._schema
        errors = validate(schema, document, context.validation_rules)
        if errors:
            # All of them are the document's fault, even one a scalar's parser raised for (an Int
            # literal of 5,000 digits): dropped, that exception would get the error masked.
            return [
                GraphQLError(
                    e.message,
                    nodes=e.nodes,
                    source=e.source,
                    positions=e.positions,
                    extensions=e.extensions,
                )
                for e in errors
            ]
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if self.requested_operation is None and len(operations) > 1:
            return [
                GraphQLError(
                    f"The document has {len(operations)} operations: send operationName to say "
                    "which one to run.",
                    extensions={"code": "OPERATION_RESOLUTION_FAILURE"},
                )
            ]
        cost = self.cost(schema, document, context.variables, self.requested_operation)
        if cost > MAX_COST:
            return [
                GraphQLError(
                    f"This query may return {cost:,} list items (each list's first multiplied "
                    f"down the nesting, aliases included); the limit is {MAX_COST:,}. Ask for "
                    "smaller pages, nest fewer lists, or split it into several requests.",
                    extensions={"code": "QUERY_TOO_EXPENSIVE", "cost": cost, "limit": MAX_COST},
                )
            ]
        return []
