"""What a single GraphQL request may cost: body size, bounded ``first``, depth, tokens, aliases and
the query's cost.

Pattern: cap the work per request *before* executing it. The body cap (``MAX_BODY_BYTES``, enforced
by ``http.BodyLimit``) bounds what is read and parsed at all; ``first`` ≤ 100 bounds each list; the
depth limit bounds how many lists nest; the token limit (checked while parsing) bounds the document;
the alias limit stops one request repeating a field hundreds of times under different names. Each
is necessary and none is enough: 15 aliases of ``users(first: 100) { … orders(first: 100) { … user {
orders(first: 100) … }}}`` pass all four and still ask for 15 million rows. So :func:`query_cost`
multiplies each list's ``first`` down the nesting — the rows the query may touch — and the schema
refuses a document above ``MAX_COST`` before a single resolver runs. The guide had none of these.
Taught in ``notebooks/01_api_design_graphql.ipynb``.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    get_nullable_type,
    is_introspection_type,
    is_list_type,
    value_from_ast_untyped,
)
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef

from reference.api_design.graphql.errors import BadUserInput

DEFAULT_FIRST = 20
MAX_FIRST = 100
MAX_DEPTH = 10
MAX_TOKENS = 1000
MAX_ALIASES = 15
MAX_BODY_BYTES = 64 * 1024  # a 1,000-token document and its variables fit many times over
# Rows a query may touch: users(first: 100) { orders(first: 99) } is exactly the budget.
MAX_COST = 10_000


def check_first(first: int) -> int:
    """``first`` itself if 1 ≤ first ≤ ``MAX_FIRST``, else a ``BAD_USER_INPUT`` error."""
    if not 1 <= first <= MAX_FIRST:
        raise BadUserInput(f"first must be between 1 and {MAX_FIRST}, got {first}")
    return first


@cache
def introspection_bounds(schema: GraphQLSchema) -> dict[str, int]:
    """The longest each introspection list can be in ``schema`` — ``__schema { types { fields {
    args …}}}`` has no ``first``, but its lengths are known, so introspection is costed too."""
    types = list(schema.type_map.values())
    composite = [t for t in types if isinstance(t, GraphQLObjectType | GraphQLInterfaceType)]
    fields = [f for t in composite for f in t.fields.values()]

    def longest(lengths: list[int]) -> int:
        return max(lengths, default=0)

    return {
        "types": len(types),
        "possibleTypes": len(types),
        "fields": longest([len(t.fields) for t in composite]),
        "interfaces": longest([len(t.interfaces) for t in composite]),
        "inputFields": longest(
            [len(t.fields) for t in types if isinstance(t, GraphQLInputObjectType)]
        ),
        "enumValues": longest([len(t.values) for t in types if isinstance(t, GraphQLEnumType)]),
        "args": longest([len(f.args) for f in fields] + [len(d.args) for d in schema.directives]),
        "directives": len(schema.directives),
        "locations": longest([len(d.locations) for d in schema.directives]),
    }


def query_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    variables: Mapping[str, Any] | None = None,
    operation_name: str | None = None,
) -> int:
    """How many list items ``document`` may produce: for every list field, its length (``first``,
    or its default, for connections; the schema's size for introspection lists) times the lengths
    of every list above it. Aliases and fragment spreads count each time they appear.

    ``document`` must already be valid (known fields, no fragment cycles). A ``first`` outside
    1..``MAX_FIRST`` counts as ``MAX_FIRST`` — the resolver refuses it with ``BAD_USER_INPUT`` —
    and one that is not an integer counts as the worst case.
    """
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    operation = next(
        (op for op in operations if op.name and op.name.value == operation_name), operations[0]
    )
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    defaults = {
        d.variable.name.value: value_from_ast_untyped(d.default_value)
        for d in operation.variable_definitions or ()
        if d.default_value is not None
    }
    values = {**defaults, **(variables or {})}
    bounds = introspection_bounds(schema)
    roots = {
        OperationType.QUERY: schema.query_type,
        OperationType.MUTATION: schema.mutation_type,
        OperationType.SUBSCRIPTION: schema.subscription_type,
    }

    def length(node: FieldNode, field: GraphQLField, parent: GraphQLNamedType | None) -> int | None:
        """How many items this field returns per parent, or ``None`` if it is not a costed list."""
        if "first" in field.args:
            given = next((a.value for a in node.arguments or () if a.name.value == "first"), None)
            first = (
                field.args["first"].default_value
                if given is None
                else value_from_ast_untyped(given, values)
            )
            if not isinstance(first, int) or isinstance(first, bool):
                return MAX_FIRST
            return min(max(first, 0), MAX_FIRST)
        introspected = parent is not None and is_introspection_type(parent)
        if introspected and is_list_type(get_nullable_type(field.type)):
            return bounds.get(node.name.value, len(schema.type_map))
        return None  # one object, a scalar, or a list sized by a connection above (edges)

    def cost(
        selections: SelectionSetNode,
        parent: GraphQLNamedType | None,
        above: int,
        seen: frozenset[str],
    ) -> int:
        total = 0
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                field = field_of(parent, selection.name.value)
                if field is None:  # __typename
                    continue
                items = length(selection, field, parent)
                here = above if items is None else above * items
                if items is not None:
                    total += here
                if selection.selection_set is not None:
                    total += cost(selection.selection_set, get_named_type(field.type), here, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name in fragments and name not in seen:  # cycles are refused by validation
                    fragment = fragments[name]
                    condition = schema.get_type(fragment.type_condition.name.value)
                    total += cost(fragment.selection_set, condition, above, seen | {name})
            elif isinstance(selection, InlineFragmentNode):
                condition = (
                    schema.get_type(selection.type_condition.name.value)
                    if selection.type_condition is not None
                    else parent
                )
                total += cost(selection.selection_set, condition, above, seen)
        return total

    def field_of(parent: GraphQLNamedType | None, name: str) -> GraphQLField | None:
        if parent is schema.query_type and name in ("__schema", "__type"):
            return SchemaMetaFieldDef if name == "__schema" else TypeMetaFieldDef
        if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            field: GraphQLField | None = parent.fields.get(name)
            return field
        return None

    return cost(operation.selection_set, roots[operation.operation], 1, frozenset())
