"""Every defect of guide-defects.md §1.1–1.4 and §1.9: shown on the faithful port (``guide/``),
absent from the reference — each pair of tests runs against the live database."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import guide.api_design.user_service as port_service
from guide.api_design.auth_middleware import substring7
from guide.api_design.express_crud import create_guide_app
from reference.api_design.auth import parse_bearer
from reference.api_design.seed import CHEAP_HASHER, Cast, seed_users

MISSING = str(uuid.UUID(int=1))
NEW_USER = {"email": "Carol@Example.com", "name": "Carol", "password": "Str0ngPassword"}


@pytest.fixture
def port(api_db: str, cast: Cast) -> Iterator[TestClient]:
    """The guide's router over the same database (500s come back as responses, like Express's)."""
    app = create_guide_app(api_db, password_hasher=CHEAP_HASHER)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def ref(client: TestClient, cast: Cast) -> TestClient:
    client.headers.update(cast.headers("admin"))
    return client


def _keys(document: Any) -> set[str]:
    if isinstance(document, dict):
        return set(document) | {k for v in document.values() for k in _keys(v)}
    if isinstance(document, list):
        return {k for item in document for k in _keys(item)}
    return set()


# --- §1.2 Express CRUD -----------------------------------------------------------------------


def test_query_values_are_unbounded_strings_on_the_port(port: TestClient, api_db: str) -> None:
    seed_users(api_db, 110)
    body = port.get("/users?limit=1000&page=1").json()
    assert len(body["data"]) == 114, "the spec's maximum of 100 is ignored"
    assert body["meta"]["limit"] == "1000", "req.query values are strings"
    assert port.get("/users?limit=5&limit=7").status_code == 500, "a repeated param is an array"


def test_query_values_are_bounded_integers_on_the_reference(ref: TestClient, api_db: str) -> None:
    seed_users(api_db, 110)
    assert ref.get("/users?limit=1000").status_code == 422
    body = ref.get("/users?limit=100&page=1").json()
    assert len(body["data"]) == 100
    assert body["meta"]["limit"] == 100


def test_non_numeric_limit_is_a_500_on_the_port_and_422_on_the_reference(
    port: TestClient, ref: TestClient
) -> None:
    assert port.get("/users?limit=abc").status_code == 500
    assert ref.get("/users?limit=abc").status_code == 422


def test_sort_is_an_oracle_on_the_port_and_allow_listed_on_the_reference(
    port: TestClient, ref: TestClient
) -> None:
    by_hash = port.get("/users?sort=passwordHash")
    assert by_hash.status_code == 200, "sorting by the password hash works: an oracle"
    hashes = [user["passwordHash"] for user in by_hash.json()["data"]]
    assert hashes == sorted(hashes)
    for key in ("password_hash", "passwordHash"):
        assert ref.get(f"/users?sort={key}").status_code == 422


def test_meta_total_is_missing_on_the_port_and_right_on_the_reference(
    port: TestClient, ref: TestClient, api_db: str
) -> None:
    seed_users(api_db, 53)
    assert "total" not in port.get("/users?page=2&limit=10").json()["meta"]
    for page in (1, 3, 6, 7):
        assert ref.get(f"/users?page={page}&limit=10").json()["meta"]["total"] == 57


def test_the_router_calls_a_method_the_service_does_not_define() -> None:
    assert hasattr(port_service.UserService, "find_many")
    assert not hasattr(port_service.UserService, "find_all"), "router: userService.findAll"


def test_the_routes_use_a_validator_the_guide_never_defines() -> None:
    import guide.api_design.validation as validation

    assert hasattr(validation, "validate")
    assert not hasattr(validation, "validate_body"), "routes: validateBody(…)"


def test_an_unhandled_error_escapes_the_port_without_any_error_shape(
    port: TestClient, ref: TestClient
) -> None:
    crash = port.get("/users/not-a-uuid")
    assert crash.status_code == 500
    assert crash.headers["content-type"].startswith("text/plain")
    handled = ref.get("/users/not-a-uuid")
    assert handled.headers["content-type"] == "application/problem+json"


def test_malformed_id_is_500_on_the_port_and_422_on_the_reference(
    port: TestClient, ref: TestClient
) -> None:
    for method in ("GET", "PUT", "PATCH", "DELETE"):
        body = {"email": "x@example.com", "name": "Xx"} if method in ("PUT", "PATCH") else None
        assert port.request(method, "/users/not-a-uuid", json=body).status_code == 500
        assert ref.request(method, "/users/not-a-uuid", json=body).status_code == 422


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_missing_id_is_500_on_the_port_and_404_on_the_reference(
    port: TestClient, ref: TestClient, method: str
) -> None:
    body = {"email": "x@example.com", "name": "Xx"} if method != "DELETE" else None
    assert port.request(method, f"/users/{MISSING}", json=body).status_code == 500
    response = ref.request(method, f"/users/{MISSING}", json=body, headers={"If-Match": "*"})
    assert response.status_code == 404


def test_duplicate_email_is_500_on_the_port_and_409_on_the_reference(
    port: TestClient, ref: TestClient
) -> None:
    duplicate = {**NEW_USER, "email": "ALICE@example.com"}
    assert port.post("/users", json=duplicate).status_code == 500
    assert ref.post("/users", json=duplicate).status_code == 409


def test_201_without_location_on_the_port_with_location_on_the_reference(
    port: TestClient, ref: TestClient
) -> None:
    created = port.post("/users", json=NEW_USER)
    assert created.status_code == 201
    assert "location" not in created.headers
    created = ref.post("/users", json={**NEW_USER, "email": "dave@example.com"})
    assert created.headers["location"] == f"/users/{created.json()['data']['id']}"


def test_password_hash_leaks_on_the_port_never_on_the_reference(
    port: TestClient, ref: TestClient, cast: Cast
) -> None:
    alice = cast.principals["alice"].user_id
    leaked = [
        port.post("/users", json=NEW_USER).json(),
        port.get("/users").json(),
        port.get(f"/users/{alice}").json(),
        port.patch(f"/users/{alice}", json={"name": "Alicia"}).json(),
    ]
    assert all("passwordHash" in _keys(document) for document in leaked)
    etag = ref.get(f"/users/{alice}").headers["ETag"]
    clean = [
        ref.post("/users", json={**NEW_USER, "email": "erin@example.com"}).json(),
        ref.get("/users").json(),
        ref.get(f"/users/{alice}").json(),
        ref.patch(f"/users/{alice}", json={"name": "Alicia"}, headers={"If-Match": etag}).json(),
    ]
    assert all(not ({"passwordHash", "password_hash"} & _keys(doc)) for doc in clean)


def test_no_auth_and_no_ownership_on_the_port_bola(
    port: TestClient, client: TestClient, cast: Cast
) -> None:
    bob = cast.principals["bob"].user_id
    # Anyone, unauthenticated, reads and deletes anyone.
    assert port.get(f"/users/{bob}").status_code == 200
    assert port.delete(f"/users/{bob}").status_code == 204
    # The reference: no token → 401; alice cannot see or delete someone else.
    alice = cast.principals["alice"].user_id
    assert client.get(f"/users/{alice}").status_code == 401
    assert client.delete(f"/users/{alice}").status_code == 401
    manager = cast.principals["manager"].user_id
    assert client.get(f"/users/{manager}", headers=cast.headers("alice")).status_code == 404
    assert client.delete(f"/users/{manager}", headers=cast.headers("alice")).status_code == 404


def test_a_lost_update_on_the_port_and_412_on_the_reference(
    port: TestClient, ref: TestClient, cast: Cast
) -> None:
    alice = cast.principals["alice"].user_id
    # Port: both writers read, both PUT; the second silently erases the first's change.
    seen = port.get(f"/users/{alice}").json()["data"]
    port.put(f"/users/{alice}", json={"email": seen["email"], "name": "Set by A"})
    port.put(f"/users/{alice}", json={"email": "b@example.com", "name": seen["name"]})
    assert port.get(f"/users/{alice}").json()["data"]["name"] == "alice", "A's change is lost"
    # Reference: the second writer's stale ETag is refused.
    tag = ref.get(f"/users/{alice}").headers["ETag"]
    first = ref.put(
        f"/users/{alice}",
        json={"email": "b@example.com", "name": "Set by A"},
        headers={"If-Match": tag},
    )
    second = ref.put(
        f"/users/{alice}",
        json={"email": "c@example.com", "name": "alice"},
        headers={"If-Match": tag},
    )
    assert (first.status_code, second.status_code) == (200, 412)
    assert ref.get(f"/users/{alice}").json()["data"]["name"] == "Set by A"


# --- §1.3 HATEOAS ----------------------------------------------------------------------------


@pytest.fixture
def mounted(api_db: str, cast: Cast) -> Callable[[FastAPI], TestClient]:
    def serve(app: FastAPI) -> TestClient:
        outer = FastAPI()
        outer.mount("/api/v1", app)
        return TestClient(outer, raise_server_exceptions=False)

    return serve


def test_port_links_are_hard_coded_and_break_under_a_prefix(
    api_db: str, cast: Cast, mounted: Callable[[FastAPI], TestClient]
) -> None:
    bob = cast.principals["bob"].user_id
    with mounted(create_guide_app(api_db, level3=True, password_hasher=CHEAP_HASHER)) as client:
        links = client.get(f"/api/v1/users/{bob}").json()["links"]
        assert links["self"]["href"] == f"/users/{bob}"
        assert client.get(links["self"]["href"]).status_code == 404
        assert client.get(f"/api/v1{links['orders']['href']}").status_code == 404, "no such route"


def test_reference_links_carry_the_prefix(
    make_app: Callable[..., FastAPI], cast: Cast, mounted: Callable[[FastAPI], TestClient]
) -> None:
    bob = cast.principals["bob"].user_id
    with mounted(make_app()) as client:
        headers = cast.headers("admin")
        links = client.get(f"/api/v1/users/{bob}", headers=headers).json()["links"]
        assert links["self"]["href"] == f"/api/v1/users/{bob}"
        assert client.get(links["self"]["href"], headers=headers).status_code == 200
        assert client.get(links["orders"]["href"], headers=headers).status_code == 200


def test_port_offers_delete_to_everyone_reference_only_to_admins(
    api_db: str, cast: Cast, client: TestClient
) -> None:
    alice = cast.principals["alice"].user_id
    app = create_guide_app(api_db, level3=True, password_hasher=CHEAP_HASHER)
    with TestClient(app) as port_client:
        assert "delete" in port_client.get(f"/users/{alice}").json()["links"]
    assert (
        "delete" not in client.get(f"/users/{alice}", headers=cast.headers("alice")).json()["links"]
    )
    assert "delete" in client.get(f"/users/{alice}", headers=cast.headers("admin")).json()["links"]


# --- §1.4 status codes and error shapes ------------------------------------------------------


def test_validation_is_400_on_the_port_and_422_on_the_reference(
    port: TestClient, ref: TestClient
) -> None:
    invalid = {"email": "not-an-email", "name": "X", "password": "short"}
    on_port = port.post("/users", json=invalid)
    assert on_port.status_code == 400
    assert on_port.json()["error"] == "Validation failed"
    on_ref = ref.post("/users", json=invalid)
    assert on_ref.status_code == 422
    assert on_ref.headers["content-type"] == "application/problem+json"


def test_port_401_has_no_challenge_reference_401_has_one(
    api_db: str, cast: Cast, client: TestClient
) -> None:
    app = create_guide_app(api_db, verify_token=cast.authenticator, password_hasher=CHEAP_HASHER)
    with TestClient(app) as port_client:
        response = port_client.get("/users")
        assert response.status_code == 401
        assert "www-authenticate" not in response.headers
        assert response.json() == {"detail": {"error": "No token provided"}}
    response = client.get("/users")
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.headers["content-type"] == "application/problem+json"


def test_port_accepts_any_scheme_reference_only_bearer(
    api_db: str, cast: Cast, client: TestClient
) -> None:
    assert substring7("Basic dXNlcjpwYXNz") == "XNlcjpwYXNz"
    assert substring7("Token abc") == "bc"
    assert parse_bearer("Basic dXNlcjpwYXNz") is None
    assert parse_bearer("bearer abc") == "abc"
    # Live: a token smuggled behind any 7 characters authenticates on the port.
    app = create_guide_app(api_db, verify_token=cast.authenticator, password_hasher=CHEAP_HASHER)
    with TestClient(app) as port_client:
        smuggled = {"Authorization": "Token: " + cast.token("admin")}
        assert port_client.get("/users", headers=smuggled).status_code == 200
    assert client.get("/users", headers=smuggled).status_code == 401


def test_port_error_shapes_are_ad_hoc_reference_is_problem_json(
    port: TestClient, ref: TestClient
) -> None:
    shapes = {
        port.get(f"/users/{MISSING}").headers["content-type"],  # {"error": …}
        port.get("/users/not-a-uuid").headers["content-type"],  # text/plain
    }
    assert shapes == {"application/json", "text/plain; charset=utf-8"}
    for response in (
        ref.get(f"/users/{MISSING}"),
        ref.get("/users/not-a-uuid"),
        ref.get("/nowhere"),
        ref.delete("/users"),
    ):
        assert response.headers["content-type"] == "application/problem+json"
        assert {"type", "title", "status"} <= response.json().keys()


def test_port_has_no_405_412_or_429(port: TestClient, ref: TestClient) -> None:
    # 405 exists only in the framework; the guide's table never mentions it. No conditional
    # requests (no ETag) and no rate limit means 412 and 429 can never happen on the port.
    etagless = port.get("/users")
    assert "etag" not in port.get(f"/users/{etagless.json()['data'][0]['id']}").headers
    assert ref.delete("/users").headers["allow"] == "GET, HEAD, POST"
