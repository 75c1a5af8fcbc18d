"""Grading for exercise 01.1: Richardson level of a trace (exercises/01_api_design/richardson_level.py)."""

from __future__ import annotations

from types import ModuleType

import pytest

from reference.api_design.richardson import Exchange, Level

L = {"self": {"href": "/users/42", "method": "GET"}}

TRACES: dict[str, tuple[list[Exchange], Level]] = {
    "rpc_over_post": (
        [
            Exchange("POST", "/rpc", 200, {"result": {"id": 42}}),
            Exchange("POST", "/rpc", 200, {"result": []}),
            Exchange("POST", "/rpc", 200, {"error": "not found"}),
        ],
        Level.SWAMP_OF_POX,
    ),
    "rpc_over_get_query": (
        [
            Exchange("GET", "/api?op=getUser&id=42", 200, {"result": {"id": 42}}),
            Exchange("GET", "/api?op=deleteUser&id=42", 200, {"result": "ok"}),
        ],
        Level.SWAMP_OF_POX,
    ),
    "resources_all_post": (
        [
            Exchange("POST", "/users", 200, {"result": []}),
            Exchange("POST", "/users/42", 200, {"result": {"id": 42}}),
            Exchange("POST", "/users/42", 200, {"error": "not found"}),
        ],
        Level.RESOURCES,
    ),
    "resources_with_links_but_one_verb": (
        [
            Exchange("POST", "/users", 200, {"data": [], "links": L}),
            Exchange("POST", "/users/42", 200, {"data": {"id": 42}, "links": L}),
        ],
        Level.RESOURCES,
    ),
    "verbs_without_links": (
        [
            Exchange("GET", "/users", 200, {"data": []}),
            Exchange("POST", "/users", 201, {"data": {"id": 42}}),
            Exchange("GET", "/users/7", 404, {"title": "Not Found", "status": 404}),
            Exchange("DELETE", "/users/42", 204, None),
        ],
        Level.HTTP_VERBS,
    ),
    "verbs_with_links": (
        [
            Exchange("GET", "/", 200, {"links": {"users": {"href": "/users", "method": "GET"}}}),
            Exchange("GET", "/users/42", 200, {"data": {"id": 42}, "links": L}),
            Exchange("PATCH", "/users/42", 200, {"data": {"id": 42}, "links": L}),
            Exchange("GET", "/users/7", 404, {"title": "Not Found", "status": 404}),
            Exchange("DELETE", "/users/42", 204, None),
        ],
        Level.HYPERMEDIA,
    ),
    "verbs_on_one_path": (
        [
            Exchange("GET", "/api", 200, {"users": []}),
            Exchange("POST", "/api", 200, {"created": {"id": 42}}),
            Exchange("DELETE", "/api?id=42", 200, {"deleted": 42}),
        ],
        Level.SWAMP_OF_POX,
    ),
    "verbs_with_links_on_some_responses": (
        [
            Exchange("GET", "/users/42", 200, {"data": {"id": 42}, "links": L}),
            Exchange("POST", "/users", 201, {"data": {"id": 43}}),
            Exchange("GET", "/users", 200, {"data": [], "links": L}),
        ],
        Level.HTTP_VERBS,
    ),
    "verbs_with_no_documents_at_all": (
        [
            Exchange("PUT", "/users/42", 204, None),
            Exchange("DELETE", "/users/42", 204, None),
            Exchange("GET", "/users/7", 404, {"title": "Not Found", "status": 404}),
        ],
        Level.HTTP_VERBS,
    ),
}


@pytest.mark.parametrize("name", list(TRACES))
def test_classifies_each_trace(exercise: ModuleType, name: str) -> None:
    """Each trace has one right level. The traps: one path is level 0 whatever the verbs (GET, POST
    and DELETE all sent to /api still tunnel through one endpoint); links on an API that only ever
    POSTs do not make it level 3 (the levels are cumulative); level 3 needs links on EVERY 2xx
    document, not on some of them (a 201 without links keeps the API at level 2); and a trace with
    no 2xx document at all shows no hypermedia, so it is level 2, not 3."""
    trace, expected = TRACES[name]
    assert exercise.classify(trace) == expected, f"{name}: expected {expected!r}"


def test_returns_a_level(exercise: ModuleType) -> None:
    """classify must return a Level member (an IntEnum), so callers can compare levels."""
    trace, _ = TRACES["verbs_without_links"]
    assert isinstance(exercise.classify(trace), Level)


def test_hypermedia_needs_hrefs(exercise: ModuleType) -> None:
    """A "links" key is not hypermedia unless its entries are objects with an href."""
    assert exercise.has_hypermedia({"links": L})
    assert exercise.has_hypermedia({"_links": L})
    assert not exercise.has_hypermedia({"links": {}})
    assert not exercise.has_hypermedia({"links": {"self": "/users/42"}})
    assert not exercise.has_hypermedia({"data": []})
    assert not exercise.has_hypermedia(None)
