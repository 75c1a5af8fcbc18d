"""The users validator's ``$jsonSchema`` rules, checked in Python before a write.

A server-side validator is the fix for the guide's app-only Mongoose validation, but
mongo-java-server (the course's native stand-in) stores validators and enforces none of them. So the
application checks the *same* schema object, :data:`reference.databases.mongo.users.USER_SCHEMA`, with
:func:`schema_violations` — one source of rules, not a second copy that could drift. It interprets
exactly the keywords that schema uses; any other keyword raises ``ValueError`` rather than being
skipped, so adding a rule to the schema cannot silently leave it unchecked here.

This protects only writes that go through the application (``insert_user``); genuine MongoDB
enforces the validator for every writer. Taught in ``notebooks/02_databases_mongodb.ipynb`` §2.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Final

from bson import ObjectId

_BSON_TYPES: Final[dict[str, Callable[[object], bool]]] = {
    "object": lambda v: isinstance(v, Mapping),
    "array": lambda v: isinstance(v, list | tuple),
    "string": lambda v: isinstance(v, str),
    "date": lambda v: isinstance(v, datetime),
    "objectId": lambda v: isinstance(v, ObjectId),
}
# Annotations that carry no rule.
_IGNORED: Final = frozenset({"description", "title"})
_SUPPORTED: Final = frozenset(
    {
        "bsonType",
        "required",
        "additionalProperties",
        "properties",
        "enum",
        "minLength",
        "maxLength",
        "pattern",
        "maxItems",
        "items",
    }
)


def schema_violations(value: object, schema: Mapping[str, Any], path: str = "") -> list[str]:
    """Every way ``value`` breaks ``schema`` (a ``$jsonSchema`` subset), as ``"field: reason"``.

    An empty list means the server's validator would accept it too. Raises ``ValueError`` for a
    keyword this checker does not implement.
    """
    unknown = set(schema) - _SUPPORTED - _IGNORED
    if unknown:
        raise ValueError(f"unsupported $jsonSchema keyword(s) at {path or '$'}: {sorted(unknown)}")
    label = path or "document"
    if "bsonType" in schema:
        kind = schema["bsonType"]
        if kind not in _BSON_TYPES:
            raise ValueError(f"unsupported bsonType {kind!r} at {path or '$'}")
        if not _BSON_TYPES[kind](value):
            # Checking the children of a value of the wrong type would only add noise.
            return [f"{label}: not a {kind}"]
    violations: list[str] = []
    if "enum" in schema and value not in schema["enum"]:
        violations.append(f"{label}: not one of {schema['enum']}")
    if isinstance(value, str):
        if "minLength" in schema and len(value) < schema["minLength"]:
            violations.append(f"{label}: shorter than {schema['minLength']}")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            violations.append(f"{label}: longer than {schema['maxLength']}")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            violations.append(f"{label}: does not match {schema['pattern']}")
    if isinstance(value, list | tuple):
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            violations.append(f"{label}: more than {schema['maxItems']} items")
        if "items" in schema:
            for i, item in enumerate(value):
                violations += schema_violations(item, schema["items"], _join(path, str(i)))
    if isinstance(value, Mapping):
        violations += _object_violations(value, schema, path)
    return violations


def _object_violations(value: Mapping[str, Any], schema: Mapping[str, Any], path: str) -> list[str]:
    properties: Mapping[str, Any] = schema.get("properties", {})
    violations = [
        f"{_join(path, field)}: required"
        for field in schema.get("required", [])
        if field not in value
    ]
    for field, item in value.items():
        if field in properties:
            violations += schema_violations(item, properties[field], _join(path, field))
        elif schema.get("additionalProperties", True) is False:
            violations.append(f"{_join(path, field)}: not allowed")
    return violations


def _join(path: str, field: str) -> str:
    return f"{path}.{field}" if path else field
