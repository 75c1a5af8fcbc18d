"""Taught in notebooks/01_api_design_graphql.ipynb §4.

Exercise 01.9: price a GraphQL document before it runs — each list's ``first`` multiplied down the
nesting, aliases and fragments included.

A depth limit, a token limit and an alias limit each pass ``a: users(first: 100) { … orders(first:
99) … }`` repeated under a few aliases, yet every alias fetches 10,000 rows. The server must price a
document by the rows it may produce, before a single resolver runs. In the course schema a field
that takes a ``first`` argument (``users``, ``User.orders``) returns up to ``first`` items *for each
item above it*, so the document's cost is the sum, over every such field where it appears, of its
``first`` times the ``first`` of every such field it is nested in::

    { users(first: 100) { edges { node { orders(first: 99) { edges { cursor } } } } } }
      100 users + 100 × 99 orders = 10,000 (exactly MAX_COST)

The rules, all graded against documents generated per run:

* every appearance counts: two aliases of ``users(first: 10)`` cost 20, and a fragment spread twice
  costs twice (inline fragments ``... on User { … }`` count like the fields they hold);
* nesting multiplies, it does not add: ``users(first: 10) { … orders(first: 5) { … user { orders(
  first: 2) …`` costs 10 + 50 + 100;
* ``first`` may be a literal, a variable from ``variables``, or a variable's default
  (``query($n: Int = 3)``); when it is left out, the field's default in the schema counts
  (``users(first: Int! = 20)``: a list without ``first`` is a page of 20, not one item);
* other fields (``edges``, ``node``, ``user``, scalars, ``__typename``) cost nothing themselves but
  their contents are priced at the multiplier they sit under;
* ``operation_name`` picks the operation when the document holds several (else the first one).

Documents reaching this function are already valid against ``schema`` and use no introspection.
The grader installs your function in the course's GraphQL app (``build_schema(cost=query_cost)``),
where a document costing more than ``MAX_COST`` is refused before any SQL is sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (  # noqa: F401, RUF100 - for your solution
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
        for selection in selection_set.selections:
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
