"""Decoy for 01.9: the depth-limit view (the guide's only answer to "depth 12"): prices a document by
how deeply its lists nest, 100 per level, so aliases and small firsts change nothing; caught by
test_aliases_each_cost and test_in_budget_queries_run."""

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

from reference.api_design.graphql.limits import MAX_FIRST


def query_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    variables: Mapping[str, Any] | None = None,
    operation_name: str | None = None,
) -> int:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = [op for op in operations if op.name is not None and op.name.value == operation_name]
    operation = (chosen or operations)[0]
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    root = schema.get_root_type(operation.operation)
    assert root is not None

    def depth(selection_set: SelectionSetNode, parent: GraphQLObjectType) -> int:
        deepest = 0
        for selection in selection_set.selections:
            if isinstance(selection, FragmentSpreadNode):
                fragment = fragments[selection.name.value]
                on = schema.get_type(fragment.type_condition.name.value)
                assert isinstance(on, GraphQLObjectType)
                deepest = max(deepest, depth(fragment.selection_set, on))
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                on = parent if condition is None else schema.get_type(condition.name.value)
                assert isinstance(on, GraphQLObjectType)
                deepest = max(deepest, depth(selection.selection_set, on))
            elif isinstance(selection, FieldNode) and selection.name.value in parent.fields:
                field = parent.fields[selection.name.value]
                below = 0
                child = get_named_type(field.type)
                if selection.selection_set is not None and isinstance(child, GraphQLObjectType):
                    below = depth(selection.selection_set, child)
                deepest = max(deepest, below + ("first" in field.args))
        return deepest

    return int(MAX_FIRST ** depth(operation.selection_set, root))
