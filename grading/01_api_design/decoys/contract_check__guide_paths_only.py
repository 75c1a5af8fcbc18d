"""Decoy for 01.7: the guide's idea of the contract, its list of paths (its YAML's one schema $ref
points at a component it never defines), so only removed operations are reported — caught by
every schema and parameter test.

Caught by test_a_removed_response_field_is_reported_for_every_operation_returning_it.
"""

from __future__ import annotations

from typing import Any, NamedTuple

REMOVED_OPERATION = "removed-operation"
REMOVED_RESPONSE_FIELD = "removed-response-field"
NEW_REQUIRED_REQUEST_FIELD = "new-required-request-field"
NEW_REQUIRED_PARAMETER = "new-required-parameter"
NARROWED_ENUM = "narrowed-enum"
CHANGED_TYPE = "changed-type"

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


class Break(NamedTuple):
    """One breaking change, as seen by the clients of one operation."""

    kind: str  # one of the six constants above
    operation: str  # "GET /users/{user_id}"
    name: str  # the property or parameter; "" for a removed operation


def resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """``node`` with its ``$ref`` followed (again and again) to the object it names in ``spec``."""
    followed: list[str] = []
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        if not isinstance(ref, str) or not ref.startswith("#/"):
            raise ValueError(f"only local references (#/…) can be compared, got $ref {ref!r}")
        if ref in followed:
            raise ValueError(f"$ref {ref!r} only leads back to itself: {' -> '.join(followed)}")
        followed.append(ref)
        target: Any = spec
        # JSON Pointer (RFC 6901): "~1" is "/" and "~0" is "~" inside one part.
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(target, dict) or part not in target:
                raise ValueError(f"$ref {ref!r} points to nothing in the document")
            target = target[part]
        node = target
    if not isinstance(node, dict):
        raise ValueError(f"{' -> '.join(followed) or 'a schema'} is not an object")
    return node


def schema_breaks(
    old_spec: dict[str, Any],
    new_spec: dict[str, Any],
    old: dict[str, Any],
    new: dict[str, Any],
    operation: str,
    side: str,
    name: str,
    seen: frozenset[tuple[str, str]] = frozenset(),
) -> set[Break]:
    """Breaks between two schemas at the same place; ``side`` is ``"request"`` or ``"response"``.

    ``name`` is the property or parameter the schemas describe; ``seen`` holds the ``($ref, $ref)``
    pairs already being compared further up (so a schema that contains itself is compared once).
    """
    pair = (str(old.get("$ref", "")), str(new.get("$ref", "")))
    if pair != ("", ""):
        if pair in seen:
            return set()  # already being compared further up: a schema that contains itself
        seen = seen | {pair}
    old, new = resolve(old_spec, old), resolve(new_spec, new)
    found: set[Break] = set()
    if "type" in old and "type" in new and old["type"] != new["type"]:
        return {Break(CHANGED_TYPE, operation, name)}
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    if side == "request":
        # Without an enum, any value was accepted: a new enum narrows it just as much.
        if "enum" in new and (
            "enum" not in old or set(map(repr, old["enum"])) - set(map(repr, new["enum"]))
        ):
            found.add(Break(NARROWED_ENUM, operation, name))
        newly_required = set(new.get("required", [])) - set(old.get("required", []))
        found |= {Break(NEW_REQUIRED_REQUEST_FIELD, operation, field) for field in newly_required}
    else:
        found |= {
            Break(REMOVED_RESPONSE_FIELD, operation, field)
            for field in old_props
            if field not in new_props
        }
    pairs = [
        (old_props[field], new_props[field], field) for field in old_props if field in new_props
    ]
    for key in ("items", "additionalProperties"):
        if isinstance(old.get(key), dict) and isinstance(new.get(key), dict):
            pairs.append((old[key], new[key], name))
    for key in ("anyOf", "oneOf", "allOf"):
        if len(old.get(key, [])) == len(new.get(key, [])):
            pairs.extend(
                (a, b, name) for a, b in zip(old.get(key, []), new.get(key, []), strict=True)
            )
    for old_part, new_part, part_name in pairs:
        found |= schema_breaks(
            old_spec,
            new_spec,
            old_part,
            new_part,
            operation=operation,
            side=side,
            name=part_name,
            seen=seen,
        )
    return found


def breaking_changes(old: dict[str, Any], new: dict[str, Any]) -> list[Break]:
    """Every change from ``old`` to ``new`` that breaks a client of ``old`` (module docstring)."""

    def operations(
        spec: dict[str, Any],
    ) -> dict[str, tuple[dict[str, Any], dict[tuple[str, str], dict[str, Any]]]]:
        """Each operation by "METHOD /path", with its parameters keyed by (name, in)."""
        paths = spec.get("paths") if isinstance(spec, dict) else None
        if not isinstance(paths, dict):
            raise ValueError("not an OpenAPI document: it has no 'paths' object")
        found = {}
        for path, item in paths.items():
            item = resolve(spec, item)
            for method in METHODS:
                if method not in item:
                    continue
                operation = resolve(spec, item[method])
                parameters = {}
                # Path-level parameters apply to every operation; the operation's own override them.
                for raw in [*item.get("parameters", []), *operation.get("parameters", [])]:
                    parameter = resolve(spec, raw)
                    where = parameter.get("in", "")
                    key = parameter.get("name", "")
                    parameters[(key.lower() if where == "header" else key, where)] = parameter
                found[f"{method.upper()} {path}"] = (operation, parameters)
        return found

    def content(spec: dict[str, Any], holder: dict[str, Any]) -> dict[str, Any]:
        return resolve(spec, holder).get("content", {}) if holder else {}

    new_operations = operations(new)
    breaks: set[Break] = set()
    for key in operations(old):
        if key not in new_operations:
            breaks.add(Break(REMOVED_OPERATION, key, ""))
    return sorted(breaks)
