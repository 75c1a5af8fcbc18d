"""Grading for exercise 01.7: breaking changes between two OpenAPI documents
(exercises/01_api_design/contract_check.py).

Every test starts from the course's own spec as the code exports it now
(``reference.api_design.export_openapi.current_spec``) and changes it: every operation, field and
parameter in turn where they can be listed, and names drawn fresh on every run where something is
added — so an answer that knows this spec's names cannot pass. What each change should report is
worked out here from the spec itself (which operations reach a component through ``$ref``).
"""

from __future__ import annotations

import copy
import json
import random
import re
import secrets
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from reference.api_design.export_openapi import current_spec

Spec = dict[str, Any]
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
SCHEMAS = "#/components/schemas/"
RNG = random.Random(secrets.randbits(64))


@pytest.fixture(scope="module")
def base() -> Spec:
    return current_spec()


def fresh_name() -> str:
    return f"x_{secrets.token_hex(3)}"


def operations(spec: Spec) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    """(key "GET /users", path, method, operation) for every operation."""
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                yield f"{method.upper()} {path}", path, method, item[method]


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)


def reached(spec: Spec, roots: list[Any]) -> set[str]:
    """Names of every component schema reachable from ``roots`` through ``$ref``, transitively."""
    names: set[str] = set()
    todo = [ref for root in roots for ref in refs(root)]
    while todo:
        name = todo.pop().removeprefix(SCHEMAS)
        if name not in names:
            names.add(name)
            todo.extend(refs(spec["components"]["schemas"][name]))
    return names


def side_roots(operation: dict[str, Any], side: str) -> list[Any]:
    if side == "request":
        return [operation.get("requestBody", {}), operation.get("parameters", [])]
    return [r for status, r in operation["responses"].items() if status.startswith("2")]


def users_of(spec: Spec, schema: str, side: str) -> set[str]:
    """Operations whose request (or 2xx response) reaches the component ``schema``."""
    return {
        key
        for key, _, _, operation in operations(spec)
        if schema in reached(spec, side_roots(operation, side))
    }


def one_sided(spec: Spec, side: str) -> list[str]:
    """Component schemas reached from that side only (a change there has one meaning)."""
    other = "response" if side == "request" else "request"
    return sorted(
        name
        for name in spec["components"]["schemas"]
        if users_of(spec, name, side) and not users_of(spec, name, other)
    )


def breaks(exercise: ModuleType, old: Spec, new: Spec) -> set[tuple[str, str, str]]:
    result = exercise.breaking_changes(old, new)
    assert isinstance(result, list), "return a list of Break"
    return {(b.kind, b.operation, b.name) for b in result}


def expect(kind: str, operations_hit: set[str], name: str) -> set[tuple[str, str, str]]:
    return {(kind, operation, name) for operation in operations_hit}


def check(exercise: ModuleType, old: Spec, new: Spec, want: set[Any], change: str) -> None:
    got = breaks(exercise, old, new)
    missing, extra = sorted(want - got), sorted(got - want)
    assert not missing, f"after this change: {change}\n  not reported: {missing}"
    assert not extra, f"after this change: {change}\n  reported, but not breaking: {extra}"


def test_the_same_spec_twice_breaks_nothing(exercise: ModuleType, base: Spec) -> None:
    """Comparing the exported spec with an identical copy reports nothing."""
    check(exercise, base, copy.deepcopy(base), set(), "none (an identical copy)")


def test_a_removed_operation_is_reported(exercise: ModuleType, base: Spec) -> None:
    """Removing any one operation (each is tried) is a removed-operation for exactly that
    operation, name "". Removing a whole path removes each of its operations."""
    for key, path, method, _ in list(operations(base)):
        new = copy.deepcopy(base)
        del new["paths"][path][method]
        check(exercise, base, new, {("removed-operation", key, "")}, f"{key} removed")
    path = RNG.choice(sorted(base["paths"]))
    new = copy.deepcopy(base)
    del new["paths"][path]
    want = {("removed-operation", key, "") for key, p, _, _ in operations(base) if p == path}
    check(exercise, base, new, want, f"path {path} removed")


def test_a_removed_response_field_is_reported_for_every_operation_returning_it(
    exercise: ModuleType, base: Spec
) -> None:
    """Removing a property from a component that 2xx responses use (each is tried) breaks every
    operation whose response reaches that component through $ref — however deep, through arrays
    (items) and maps (additionalProperties) — and names the property. Follow every $ref."""
    for schema in one_sided(base, "response"):
        for prop in list(base["components"]["schemas"][schema].get("properties", {})):
            new = copy.deepcopy(base)
            component = new["components"]["schemas"][schema]
            del component["properties"][prop]
            component["required"] = [r for r in component.get("required", []) if r != prop]
            want = expect("removed-response-field", users_of(base, schema, "response"), prop)
            check(exercise, base, new, want, f"property {prop!r} removed from {schema}")


def test_a_new_required_request_field_is_reported(exercise: ModuleType, base: Spec) -> None:
    """A request body that now requires a property — a new one (its name changes every run) or an
    optional one made required — breaks every operation sending that body: old clients do not
    send it."""
    for schema in one_sided(base, "request"):
        component = base["components"]["schemas"][schema]
        hit = users_of(base, schema, "request")
        new_field = fresh_name()
        new = copy.deepcopy(base)
        target = new["components"]["schemas"][schema]
        target.setdefault("properties", {})[new_field] = {"type": "string"}
        target["required"] = [*target.get("required", []), new_field]
        want = expect("new-required-request-field", hit, new_field)
        check(exercise, base, new, want, f"{schema} gained the required property {new_field!r}")
        optional = sorted(set(component.get("properties", {})) - set(component.get("required", [])))
        if optional:
            field = RNG.choice(optional)
            new = copy.deepcopy(base)
            target = new["components"]["schemas"][schema]
            target["required"] = [*target.get("required", []), field]
            want = expect("new-required-request-field", hit, field)
            check(exercise, base, new, want, f"{schema}.{field} made required")


def optional_parameters(spec: Spec) -> list[tuple[str, str, str, int, dict[str, Any]]]:
    return [
        (key, path, method, index, parameter)
        for key, path, method, operation in operations(spec)
        for index, parameter in enumerate(operation.get("parameters", []))
        if not parameter.get("required")
    ]


def test_a_parameter_that_becomes_required_is_reported(exercise: ModuleType, base: Spec) -> None:
    """An optional parameter made required (each is tried), or a new required parameter (a fresh
    name each run), is a new-required-parameter for its operation, named by the parameter."""
    for key, path, method, index, parameter in optional_parameters(base):
        new = copy.deepcopy(base)
        new["paths"][path][method]["parameters"][index]["required"] = True
        want = {("new-required-parameter", key, parameter["name"])}
        check(exercise, base, new, want, f"{key}: parameter {parameter['name']!r} made required")
    key, path, method, _ = RNG.choice(list(operations(base)))
    name = fresh_name()
    new = copy.deepcopy(base)
    added = {"name": name, "in": "query", "required": True, "schema": {"type": "string"}}
    new["paths"][path][method].setdefault("parameters", []).append(added)
    check(
        exercise,
        base,
        new,
        {("new-required-parameter", key, name)},
        f"{key}: new required parameter {name!r}",
    )


def test_a_narrowed_request_enum_is_reported(exercise: ModuleType, base: Spec) -> None:
    """A parameter that accepts fewer values is a narrowed-enum: an enum value removed (each is
    tried), or an enum put on a parameter that accepted any value. Compare old values with new:
    the ones that are GONE break clients, not the ones added."""
    for key, path, method, operation in operations(base):
        for index, parameter in enumerate(operation.get("parameters", [])):
            values = parameter["schema"].get("enum")
            for value in values or []:
                new = copy.deepcopy(base)
                schema = new["paths"][path][method]["parameters"][index]["schema"]
                schema["enum"] = [v for v in values if v != value]
                want = {("narrowed-enum", key, parameter["name"])}
                check(
                    exercise, base, new, want, f"{key}: {value!r} removed from {parameter['name']}"
                )
    strings = [
        (key, path, method, index, parameter)
        for key, path, method, operation in operations(base)
        for index, parameter in enumerate(operation.get("parameters", []))
        if parameter["schema"].get("type") == "string" and "enum" not in parameter["schema"]
    ]
    key, path, method, index, parameter = RNG.choice(strings)
    new = copy.deepcopy(base)
    new["paths"][path][method]["parameters"][index]["schema"]["enum"] = [fresh_name()]
    want = {("narrowed-enum", key, parameter["name"])}
    check(exercise, base, new, want, f"{key}: {parameter['name']} limited to one value")


def flipped(type_: str) -> str:
    return "integer" if type_ == "string" else "string"


def test_a_changed_type_is_reported(exercise: ModuleType, base: Spec) -> None:
    """A property (request or response, behind any $ref; each is tried) or a parameter whose type
    changes is a changed-type for every operation reaching it, named by the property or parameter."""
    for side in ("request", "response"):
        for schema in one_sided(base, side):
            for prop, prop_schema in (
                base["components"]["schemas"][schema].get("properties", {}).items()
            ):
                if not isinstance(prop_schema.get("type"), str):
                    continue
                new = copy.deepcopy(base)
                changed = new["components"]["schemas"][schema]["properties"][prop]
                changed["type"] = flipped(prop_schema["type"])
                want = expect("changed-type", users_of(base, schema, side), prop)
                change = f"{schema}.{prop} is now {changed['type']}"
                check(exercise, base, new, want, change)
    for key, path, method, operation in operations(base):
        for index, parameter in enumerate(operation.get("parameters", [])):
            if isinstance(parameter["schema"].get("type"), str):
                new = copy.deepcopy(base)
                schema = new["paths"][path][method]["parameters"][index]["schema"]
                schema["type"] = flipped(schema["type"])
                want = {("changed-type", key, parameter["name"])}
                change = f"{key}: parameter {parameter['name']} is now {schema['type']}"
                check(exercise, base, new, want, change)


def added_path(spec: Spec) -> str:
    name = fresh_name()
    spec["paths"][f"/{name}"] = {
        "get": {"responses": {"200": {"description": "OK", "content": {"application/json": {}}}}}
    }
    return f"path /{name} added"


def added_request_field(spec: Spec) -> str:
    schema = RNG.choice(one_sided(spec, "request"))
    name = fresh_name()
    spec["components"]["schemas"][schema]["properties"][name] = {"type": "string"}
    return f"optional property {name!r} added to {schema}"


def added_response_field(spec: Spec) -> str:
    schema = RNG.choice(one_sided(spec, "response"))
    name = fresh_name()
    component = spec["components"]["schemas"][schema]
    component.setdefault("properties", {})[name] = {"type": "integer"}
    component["required"] = [*component.get("required", []), name]
    return f"required property {name!r} added to the response schema {schema}"


def added_optional_parameter(spec: Spec) -> str:
    key, _, _, operation = RNG.choice(list(operations(spec)))
    name = fresh_name()
    parameter = {"name": name, "in": "query", "required": False, "schema": {"type": "string"}}
    operation.setdefault("parameters", []).append(parameter)
    return f"{key}: optional parameter {name!r} added"


def widened_enum(spec: Spec) -> str:
    key, _, _, operation = next(
        op
        for op in operations(spec)
        if any("enum" in p["schema"] for p in op[3].get("parameters", []))
    )
    parameter = next(p for p in operation["parameters"] if "enum" in p["schema"])
    value = fresh_name()
    parameter["schema"]["enum"].append(value)
    return f"{key}: {parameter['name']} also accepts {value!r}"


ADDITIONS = [added_path, added_request_field, added_response_field, added_optional_parameter]


@pytest.mark.parametrize("change", [*ADDITIONS, widened_enum], ids=lambda f: f.__name__)
def test_additions_break_nothing(exercise: ModuleType, base: Spec, change: Any) -> None:
    """Adding is safe: a new path, an optional request field, a new response field (even a
    required one), an optional parameter, an enum that accepts one more value. Report nothing."""
    new = copy.deepcopy(base)
    described = change(new)
    check(exercise, base, new, set(), described)


LOOSENINGS = [
    "required request field made optional",
    "required parameter made optional",
    "enum narrowed in a response",
]


def loosen(spec: Spec, how: str) -> str:
    if how == "required request field made optional":
        schema = RNG.choice(
            [
                s
                for s in one_sided(spec, "request")
                if spec["components"]["schemas"][s].get("required")
            ]
        )
        component = spec["components"]["schemas"][schema]
        field = RNG.choice(component["required"])
        component["required"].remove(field)
        return f"{schema}.{field} made optional"
    if how == "required parameter made optional":
        key, parameter = RNG.choice(
            [
                (key, p)
                for key, _, _, op in operations(spec)
                for p in op.get("parameters", [])
                if p.get("required") and p["in"] != "path"
            ]
        )
        parameter["required"] = False
        return f"{key}: parameter {parameter['name']} made optional"
    enums = [
        name
        for name in one_sided(spec, "response")
        if len(spec["components"]["schemas"][name].get("enum", [])) > 1
    ]
    schema = RNG.choice(enums)
    values = spec["components"]["schemas"][schema]["enum"]
    values.remove(RNG.choice(values))
    return f"one value removed from the response-only enum {schema}"


@pytest.mark.parametrize("how", LOOSENINGS)
def test_asking_less_of_clients_breaks_nothing(exercise: ModuleType, base: Spec, how: str) -> None:
    """A required request field or parameter made optional asks less of old clients; an enum that
    only appears in responses and loses a value sends them fewer surprises. Neither is a break."""
    new = copy.deepcopy(base)
    check(exercise, base, new, set(), loosen(new, how))


def inline_one_ref(spec: Spec) -> str:
    """Replace one $ref inside a 2xx response schema by a copy of what it points to."""
    key, _, _, operation = RNG.choice(
        [op for op in operations(spec) if "$ref" in json.dumps(side_roots(op[3], "response"))]
    )
    for status, response in operation["responses"].items():
        for media in response.get("content", {}).values():
            schema = media.get("schema", {})
            if status.startswith("2") and "$ref" in schema:
                name = schema["$ref"].removeprefix(SCHEMAS)
                media["schema"] = copy.deepcopy(spec["components"]["schemas"][name])
                return f"{key}: {status} response's $ref to {name} written out in place"
    raise AssertionError("no $ref to inline")


def rename_component(spec: Spec) -> str:
    old = RNG.choice(one_sided(spec, "response"))
    new = f"{old}{secrets.token_hex(2).upper()}"
    text = json.dumps(spec).replace(f'"{SCHEMAS}{old}"', f'"{SCHEMAS}{new}"')
    renamed = json.loads(text)
    schemas = renamed["components"]["schemas"]
    schemas[new] = schemas.pop(old)
    spec.clear()
    spec.update(renamed)
    return f"component {old} renamed to {new}, every $ref updated"


def reworded(spec: Spec) -> str:
    for _, _, _, operation in operations(spec):
        operation["summary"] = operation["description"] = fresh_name()
    for component in spec["components"]["schemas"].values():
        component["title"] = component["description"] = fresh_name()
    return "every summary, description and title reworded"


@pytest.mark.parametrize(
    "change", [inline_one_ref, rename_component, reworded], ids=lambda f: f.__name__
)
def test_the_same_contract_written_differently_breaks_nothing(
    exercise: ModuleType, base: Spec, change: Any
) -> None:
    """What a client can send and receive is unchanged when a $ref is written out in place, a
    component is renamed with all its references, or the prose changes: compare the schemas the
    refs lead to, not the documents' text or the components' names."""
    new = copy.deepcopy(base)
    described = change(new)
    check(exercise, base, new, set(), described)


def tree_spec(extra_field: bool) -> Spec:
    """A small spec whose response schema contains itself (a tree of nodes)."""
    node: dict[str, Any] = {
        "type": "object",
        "properties": {
            "label": {"type": "string"},
            "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}},
        },
    }
    if extra_field:
        node["properties"]["weight"] = {"type": "integer"}
    ok = {
        "200": {
            "description": "OK",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Node"}}},
        }
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "tree", "version": "1"},
        "paths": {"/tree": {"get": {"responses": ok}}},
        "components": {"schemas": {"Node": node}},
    }


def test_a_schema_that_contains_itself_is_compared_and_the_comparison_ends(
    exercise: ModuleType,
) -> None:
    """A Node whose children are Nodes: removing a field from Node is still found (once per
    operation), and following $ref stops when it comes back to a pair already being compared."""
    check(
        exercise,
        tree_spec(extra_field=True),
        tree_spec(extra_field=False),
        {("removed-response-field", "GET /tree", "weight")},
        "Node (which contains Nodes) lost 'weight'",
    )


@pytest.mark.parametrize(
    "ref",
    [
        "#/components/schemas/Nowhere",
        "https://example.test/schemas.json#/User",
        "#/components/schemas/Loop",
    ],
)
def test_a_ref_that_leads_nowhere_is_a_value_error(
    exercise: ModuleType, base: Spec, ref: str
) -> None:
    """A $ref that points to nothing, to another document, or only to itself is a ValueError that
    names it — not a KeyError, a RecursionError or a hang. A document with no 'paths' is one too."""
    new = copy.deepcopy(base)
    new["components"]["schemas"]["Loop"] = {"$ref": "#/components/schemas/Loop"}
    _, _, _, operation = next(
        op for op in operations(new) if "$ref" in json.dumps(side_roots(op[3], "response"))
    )
    for status, response in operation["responses"].items():
        for media in response.get("content", {}).values():
            if status.startswith("2") and "$ref" in media.get("schema", {}):
                media["schema"] = {"$ref": ref}
    with pytest.raises(ValueError, match=re.escape(ref)):
        exercise.breaking_changes(base, new)
    with pytest.raises(ValueError, match="paths"):
        exercise.breaking_changes({"openapi": "3.1.0"}, base)
