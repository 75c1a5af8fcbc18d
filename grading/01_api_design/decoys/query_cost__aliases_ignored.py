"""Decoy for 01.9: collects each selection set's fields into a dict keyed by field name, so aliases of
the same field (a: users … b: users …) are priced once; caught by test_aliases_each_cost and
test_over_budget_queries_are_refused_before_any_sql."""

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
    assert root is not None  # a valid document only uses root types the schema has

    def price(selection_set: SelectionSetNode, parent: GraphQLObjectType, multiplier: int) -> int:
        total = 0
        by_name = {  # one entry per field name: later aliases overwrite earlier ones
            s.name.value: s for s in selection_set.selections if isinstance(s, FieldNode)
        }
        others = [s for s in selection_set.selections if not isinstance(s, FieldNode)]
        for selection in [*by_name.values(), *others]:
            if isinstance(selection, FragmentSpreadNode):
                fragment = fragments[selection.name.value]
                on = schema.get_type(fragment.type_condition.name.value)
                assert isinstance(on, GraphQLObjectType)
                total += price(fragment.selection_set, on, multiplier)  # once per spread
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
