"""Richardson's levels 0–2 as notebooks/01_api_design_rest.ipynb §1 runs them, on a real database.

The point of levels 0 and 1 is what they get wrong: every answer is 200, failures included, so a
client (or a cache, or a monitoring dashboard) cannot tell a miss from a hit without reading the body.
Level 2 is the reference app with no links: the same document, ``links`` empty.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from fastapi import FastAPI
from fastapi.testclient import TestClient

from reference.api_design.richardson import (
    Exchange,
    Level,
    create_level0_app,
    create_level1_app,
    no_links,
)
from reference.api_design.seed import Cast


def test_level0_tunnels_every_call_through_one_uri_and_always_answers_200(
    api_db: str, cast: Cast
) -> None:
    alice = cast.principals["alice"].user_id
    with TestClient(create_level0_app(api_db)) as client:
        listed = client.post("/rpc", json={"method": "listUsers"})
        assert listed.status_code == 200
        assert listed.json()["total"] == len(cast.principals)
        assert str(alice) in {user["id"] for user in listed.json()["result"]}

        found = client.post("/rpc", json={"method": "getUser", "params": {"id": str(alice)}})
        assert (found.status_code, found.json()["result"]["id"]) == (200, str(alice))
        assert "passwordHash" not in found.json()["result"]  # the public view, not the row

        for params in ({"id": str(uuid.uuid4())}, {"id": "not-a-uuid"}, {}):
            missing = client.post("/rpc", json={"method": "getUser", "params": params})
            assert (missing.status_code, missing.json()) == (200, {"error": "not found"})

        unknown = client.post("/rpc", json={"method": "dropUsers"})
        assert (unknown.status_code, unknown.json()) == (
            200,
            {"error": "unknown method 'dropUsers'"},
        )


def test_level1_has_a_uri_per_resource_but_only_posts_actions(api_db: str, cast: Cast) -> None:
    bob = cast.principals["bob"].user_id
    with TestClient(create_level1_app(api_db)) as client:
        listed = client.post("/users", json={"action": "list"})
        assert listed.status_code == 200
        assert str(bob) in {user["id"] for user in listed.json()["result"]}

        found = client.post(f"/users/{bob}", json={"action": "get"})
        assert (found.status_code, found.json()["result"]["id"]) == (200, str(bob))

        missing = client.post(f"/users/{uuid.uuid4()}", json={"action": "get"})
        assert (missing.status_code, missing.json()) == (200, {"error": "not found"})
        for path in ("/users", f"/users/{bob}"):
            wrong = client.post(path, json={"action": "delete"})
            assert (wrong.status_code, wrong.json()) == (200, {"error": "unknown action"})


def test_level2_is_the_reference_app_without_links(
    make_app: Callable[..., FastAPI], cast: Cast
) -> None:
    alice = cast.principals["alice"].user_id
    with TestClient(make_app(link_builder=no_links)) as client:
        document = client.get(f"/users/{alice}", headers=cast.headers("alice"))
        missing = client.get(f"/users/{uuid.uuid4()}", headers=cast.headers("admin"))
    assert document.status_code == 200
    assert document.json()["links"] == {}
    assert missing.status_code == 404  # what levels 0 and 1 cannot say


def test_levels_order_and_an_exchange_records_what_the_client_saw() -> None:
    assert Level.SWAMP_OF_POX < Level.RESOURCES < Level.HTTP_VERBS < Level.HYPERMEDIA
    assert [int(level) for level in Level] == [0, 1, 2, 3]
    exchange = Exchange("GET", "/users?page=2", 200, {"data": []})
    assert (exchange.method, exchange.path, exchange.status, exchange.response) == (
        "GET",
        "/users?page=2",
        200,
        {"data": []},
    )
    assert Exchange("DELETE", "/users/1", 204).response is None
