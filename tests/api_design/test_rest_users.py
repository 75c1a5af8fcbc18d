"""The users resource (REST level 2): paging, validation, CRUD status codes, no hash, ownership."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from reference.api_design.seed import Cast, seed_users

MISSING = "00000000-0000-4000-8000-000000000000"


def _has_key(document: Any, names: set[str]) -> bool:
    if isinstance(document, dict):
        return any(k in names or _has_key(v, names) for k, v in document.items())
    if isinstance(document, list):
        return any(_has_key(item, names) for item in document)
    return False


def _etag(client: TestClient, cast: Cast, who: str, user_id: Any) -> str:
    # starlette's TestClient is annotated against httpx2 (not installed), so its answers type as Any.
    etag: str = client.get(f"/users/{user_id}", headers=cast.headers(who)).headers["ETag"]
    return etag


@pytest.mark.parametrize(
    "query",
    [
        "limit=1000",
        "limit=101",
        "limit=0",
        "limit=abc",
        "page=0",
        "page=-1",
        "page=abc",
        "page=1.5",
        "sort=password_hash",
        "sort=passwordHash",
        "sort=created_at;DROP",
    ],
)
def test_list_rejects_out_of_bounds_or_unknown_query(
    client: TestClient, cast: Cast, query: str
) -> None:
    response = client.get(f"/users?{query}", headers=cast.headers("admin"))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"], "a 422 names the offending parameters"


def test_total_is_right_on_every_page_and_pages_never_overlap(
    client: TestClient, cast: Cast, api_db: str
) -> None:
    total = seed_users(api_db, 53)  # + the cast of 4 = 57 rows, 53 of them sharing one created_at
    assert total == 57
    for sort in ("created_at", "-created_at", "name", "-email"):
        seen: list[str] = []
        for page in range(1, 8):
            body = client.get(
                f"/users?page={page}&limit=10&sort={sort}", headers=cast.headers("admin")
            ).json()
            assert body["meta"] == {"page": page, "limit": 10, "total": 57}
            seen += [item["data"]["id"] for item in body["data"]]
        assert len(seen) == 57
        assert len(set(seen)) == 57, f"sort={sort}: a row repeated across pages"


def test_sort_orders_by_the_allowed_key(client: TestClient, cast: Cast, api_db: str) -> None:
    seed_users(api_db, 5)
    body = client.get("/users?sort=-email&limit=100", headers=cast.headers("admin")).json()
    emails = [item["data"]["email"].lower() for item in body["data"]]
    assert emails == sorted(emails, reverse=True)


def test_page_past_the_end_is_empty_with_the_true_total(client: TestClient, cast: Cast) -> None:
    body = client.get("/users?page=9&limit=10", headers=cast.headers("admin")).json()
    assert body["data"] == []
    assert body["meta"]["total"] == 4


def test_create_answers_201_with_a_location_that_resolves(client: TestClient, cast: Cast) -> None:
    response = client.post(
        "/users",
        json={"email": "carol@example.com", "name": "Carol", "password": "long enough"},
        headers=cast.headers("admin"),
    )
    assert response.status_code == 201
    location = response.headers["Location"]
    assert location == f"/users/{response.json()['data']['id']}"
    fetched = client.get(location, headers=cast.headers("admin"))
    assert fetched.status_code == 200
    assert fetched.json()["data"]["email"] == "carol@example.com"


def test_create_hashes_the_password_with_argon2(
    client: TestClient, cast: Cast, api_db: str
) -> None:
    import psycopg

    client.post(
        "/users",
        json={"email": "dan@example.com", "name": "Dan", "password": "s3cret-pass"},
        headers=cast.headers("admin"),
    )
    with psycopg.connect(api_db) as connection:
        row = connection.execute(
            "SELECT password_hash FROM users WHERE email = 'dan@example.com'"
        ).fetchone()
    assert row is not None
    assert row[0].startswith("$argon2id$")
    assert "s3cret-pass" not in row[0]


@pytest.mark.parametrize("email", ["ALICE@example.com", "alice@EXAMPLE.com", "alice@example.com"])
def test_duplicate_email_case_insensitive_is_409(
    client: TestClient, cast: Cast, email: str
) -> None:
    response = client.post(
        "/users",
        json={"email": email, "name": "Alice 2", "password": "long enough"},
        headers=cast.headers("admin"),
    )
    assert response.status_code == 409
    assert response.json()["title"] == "Conflict"


def test_changing_email_to_a_taken_one_is_409(client: TestClient, cast: Cast) -> None:
    alice = cast.principals["alice"].user_id
    response = client.patch(
        f"/users/{alice}",
        json={"email": "BOB@example.com"},
        headers={**cast.headers("alice"), "If-Match": _etag(client, cast, "alice", alice)},
    )
    assert response.status_code == 409


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/users/not-a-uuid"),
        ("PUT", "/users/not-a-uuid"),
        ("PATCH", "/users/not-a-uuid"),
        ("DELETE", "/users/not-a-uuid"),
        ("GET", "/users/not-a-uuid/orders"),
    ],
)
def test_malformed_id_is_422_not_500(
    client: TestClient, cast: Cast, method: str, path: str
) -> None:
    body = {"email": "x@example.com", "name": "Xu"}
    response = client.request(
        method,
        path,
        headers=cast.headers("admin"),
        json=body if method in ("PUT", "PATCH") else None,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["path", "user_id"]


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
def test_missing_id_is_404_on_every_verb(client: TestClient, cast: Cast, method: str) -> None:
    response = client.request(
        method,
        f"/users/{MISSING}",
        headers={**cast.headers("admin"), "If-Match": '"1-0000000000000000"'},
        json={"email": "x@example.com", "name": "Xu"} if method in ("PUT", "PATCH") else None,
    )
    assert response.status_code == 404


def test_put_patch_delete_round_trip(client: TestClient, cast: Cast) -> None:
    admin = cast.headers("admin")
    bob = cast.principals["bob"].user_id
    put = client.put(
        f"/users/{bob}",
        json={"email": "robert@example.com", "name": "Robert"},
        headers={**admin, "If-Match": _etag(client, cast, "admin", bob)},
    )
    assert put.status_code == 200
    assert put.json()["data"]["name"] == "Robert"
    patch = client.patch(
        f"/users/{bob}",
        json={"name": "Bobby"},
        headers={**admin, "If-Match": put.headers["ETag"]},
    )
    assert patch.status_code == 200
    assert patch.json()["data"] | {"updated_at": None} == put.json()["data"] | {
        "name": "Bobby",
        "updated_at": None,
    }
    deleted = client.delete(f"/users/{bob}", headers=admin)
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert client.get(f"/users/{bob}", headers=admin).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"name": None},
        {"name": ""},
        {"name": "x" * 101},
        {"name": "nul\x00byte"},
        {"email": "not-an-email"},
        {"role": "admin"},
        {"password_hash": "x"},
    ],
)
def test_patch_rejects_invalid_or_unknown_fields(
    client: TestClient, cast: Cast, body: dict[str, Any]
) -> None:
    alice = cast.principals["alice"].user_id
    response = client.patch(
        f"/users/{alice}",
        json=body,
        headers={**cast.headers("alice"), "If-Match": _etag(client, cast, "alice", alice)},
    )
    assert response.status_code == 422


def test_no_response_ever_carries_a_password_hash(client: TestClient, cast: Cast) -> None:
    admin = cast.headers("admin")
    alice = cast.principals["alice"].user_id
    created = client.post(
        "/users",
        json={"email": "erin@example.com", "name": "Erin", "password": "long enough"},
        headers=admin,
    )
    responses = [
        created,
        client.get("/users?limit=100", headers=admin),
        client.get(f"/users/{alice}", headers=admin),
        client.get(f"/users/{alice}", headers=cast.headers("alice")),
        client.patch(
            f"/users/{alice}",
            json={"name": "Alicia"},
            headers={**admin, "If-Match": _etag(client, cast, "admin", alice)},
        ),
        client.get("/", headers=admin),
    ]
    names = {"password_hash", "passwordHash", "password"}
    for response in responses:
        assert response.status_code < 300
        assert not _has_key(response.json(), names)
        assert "$argon2" not in response.text


def test_a_plain_user_reads_and_updates_only_themselves(client: TestClient, cast: Cast) -> None:
    alice, bob = cast.principals["alice"].user_id, cast.principals["bob"].user_id
    as_alice = cast.headers("alice")
    assert client.get(f"/users/{alice}", headers=as_alice).status_code == 200
    # Someone else's record is invisible: 404, its existence is not confirmed.
    assert client.get(f"/users/{bob}", headers=as_alice).status_code == 404
    assert client.get(f"/users/{bob}/orders", headers=as_alice).status_code == 404
    response = client.patch(
        f"/users/{bob}", json={"name": "pwned"}, headers={**as_alice, "If-Match": "*"}
    )
    assert response.status_code == 404
    assert client.delete(f"/users/{bob}", headers=as_alice).status_code == 404
    assert client.delete(f"/users/{alice}", headers=as_alice).status_code == 403
    assert client.get("/users", headers=as_alice).status_code == 403
    assert (
        client.get(f"/users/{bob}", headers=cast.headers("admin")).json()["data"]["name"] == "bob"
    )


def test_a_manager_reads_everyone_but_changes_only_themselves(
    client: TestClient, cast: Cast
) -> None:
    bob = cast.principals["bob"].user_id
    as_manager = cast.headers("manager")
    assert client.get("/users", headers=as_manager).status_code == 200
    assert client.get(f"/users/{bob}", headers=as_manager).status_code == 200
    response = client.patch(
        f"/users/{bob}", json={"name": "Xu"}, headers={**as_manager, "If-Match": "*"}
    )
    assert response.status_code == 403
    created = client.post(
        "/users",
        json={"email": "m@example.com", "name": "Mo", "password": "long enough"},
        headers=as_manager,
    )
    assert created.status_code == 403


def test_orders_of_a_user_are_listed_newest_first(
    client: TestClient, cast: Cast, api_db: str
) -> None:
    import psycopg

    alice = cast.principals["alice"].user_id
    with psycopg.connect(api_db) as connection:
        for cents, age in ((100, 3), (200, 2), (300, 1)):
            connection.execute(
                "INSERT INTO orders (user_id, total_cents, created_at) "
                "VALUES (%s, %s, now() - make_interval(hours => %s))",
                (alice, cents, age),
            )
    body = client.get(f"/users/{alice}/orders?limit=2", headers=cast.headers("alice")).json()
    assert [order["total_cents"] for order in body["data"]] == [300, 200]
    assert body["meta"] == {"page": 1, "limit": 2, "total": 3}
    assert body["links"]["next"]["href"] == f"/users/{alice}/orders?page=2&limit=2"


def test_ids_are_uuids(client: TestClient, cast: Cast) -> None:
    body = client.get("/users", headers=cast.headers("admin")).json()
    assert all(uuid.UUID(item["data"]["id"]) for item in body["data"])
