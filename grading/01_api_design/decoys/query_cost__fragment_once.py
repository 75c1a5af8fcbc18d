"""Decoy for 01.9: remembers every fragment it has priced (to be safe from cycles) in one set for the
whole document, so a fragment spread a second time costs nothing; caught by
test_a_fragment_costs_each_time_it_is_spread."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
)
from graphql.execution.values import get_argument_values, get_variable_values


def query_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    variables: Mapping[str, Any] | None = None,
    operation_name: str | None = None,
) -> int:
    """The list items ``document`` may produce: every ``first`` times the ``first`` of every list
    field above it, summed over each place a list field appears (aliases and fragment spreads too)."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = [op for op in operations if op.name is not None and op.name.value == operation_name]
    operation = (chosen or operations)[0]
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    # graphql-core's own coercion: supplied values, else each variable's declared default.
    coerced = get_variable_values(
        schema, operation.variable_definitions or (), dict(variables or {})
    )
    if isinstance(coerced, list):
        return 0  # variables that do not coerce: the executor refuses them before any resolver
    root = schema.get_root_type(operation.operation)
    priced: set[str] = set()
    assert root is not None  # a valid document only uses root types the schema has

    def price(selection_set: SelectionSetNode, parent: GraphQLObjectType, multiplier: int) -> int:
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FragmentSpreadNode):
                if selection.name.value in priced:
                    continue
                priced.add(selection.name.value)
                fragment = fragments[selection.name.value]
                on = schema.get_type(fragment.type_condition.name.value)
                assert isinstance(on, GraphQLObjectType)
                total += price(fragment.selection_set, on, multiplier)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                on = parent if condition is None else schema.get_type(condition.name.value)
                assert isinstance(on, GraphQLObjectType)
                total += price(selection.selection_set, on, multiplier)
            elif isinstance(selection, FieldNode) and selection.name.value in parent.fields:
                field = parent.fields[selection.name.value]
                items = multiplier
                if "first" in field.args:  # a list: first items per item above, default applied
                    items = multiplier * get_argument_values(field, selection, coerced)["first"]
                    total += items
                child = get_named_type(field.type)
                if selection.selection_set is not None and isinstance(child, GraphQLObjectType):
                    total += price(selection.selection_set, child, items)
        return total

    return price(operation.selection_set, root, 1)
