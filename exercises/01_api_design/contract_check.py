"""Taught in notebooks/01_api_design_rest.ipynb §6.

Exercise 01.7 — which changes to an OpenAPI contract break a client written against the old one?

``breaking_changes(old, new)`` compares two OpenAPI 3.1 documents (dicts, as FastAPI's ``.openapi()``
returns them — the grader uses the course's own exported spec, changed in a different way each run)
and returns one :class:`Break` per break and per operation it hurts. An operation is written
``"GET /users/{user_id}"`` (method upper-case, a space, the path as in the spec). Report these, and
nothing else:

* ``removed-operation`` — an operation of ``old`` is missing from ``new`` (``name`` is ``""``);
* ``removed-response-field`` — a property of a 2xx response body in ``old`` is missing from the same
  place in ``new`` (clients read it); ``name`` is the property's own name, however deeply nested;
* ``new-required-request-field`` — a request-body property required in ``new`` that ``old`` did not
  require (a new one, or an optional one made required): old clients do not send it;
* ``new-required-parameter`` — a parameter required in ``new`` that was absent or optional in ``old``
  (a parameter is identified by its ``name`` and ``in``; header names ignore case);
* ``narrowed-enum`` — a request input (parameter or request-body property) accepts fewer values: an
  ``enum`` value of ``old`` is gone, or an ``enum`` appears where any value was accepted;
* ``changed-type`` — a parameter or property (request or response) whose ``type`` differs.

For properties, ``name`` is the property's name; for parameters, the parameter's name.

Everything else is NOT breaking and must not be reported: added paths, operations, optional
parameters or optional request fields; new response fields (required or not); a required request
field or parameter made optional; a widened enum; an enum narrowed in a response (clients only see
fewer values); descriptions, titles, summaries; and the same contract written differently — a
``$ref`` inlined, or a component renamed with its references. Schemas sit behind ``$ref``
(``#/components/schemas/UserOut``): a change inside a component breaks EVERY operation that reaches
it, through any number of ``$ref``, ``properties``, ``items``, ``additionalProperties`` and
``anyOf``/``oneOf``/``allOf`` (compared position by position). Order and repeats in the returned
list do not matter.

Hostile documents: a ``$ref`` that points nowhere, is not local (``#/…``) or only leads to itself
raises ``ValueError`` naming it; a schema that contains itself (a tree of nodes) is compared once
and the comparison ends. A document without a ``paths`` object raises ``ValueError`` saying so.
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
    # TODO: while the node has a "$ref": refuse refs that are not "#/…", walk the spec along the
    # pointer's parts (a missing part is a ValueError naming the ref), and refuse a chain that comes
    # back to a ref it already followed.
    raise NotImplementedError


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
    # TODO: resolve both sides, then: a different "type" (then stop); on the request side an enum
    # that lost values and properties newly required; on the response side properties that are
    # gone; and recurse into the properties both have, items, additionalProperties and
    # anyOf/oneOf/allOf.
    raise NotImplementedError


def breaking_changes(old: dict[str, Any], new: dict[str, Any]) -> list[Break]:
    """Every change from ``old`` to ``new`` that breaks a client of ``old`` (module docstring)."""
    # TODO: for each operation of old: removed? Otherwise compare its parameters (required, schema),
    # its request body schemas (per media type) and its 2xx response schemas (per status and
    # media type) with schema_breaks.
    raise NotImplementedError
