"""The guide's status-code table, one row per code — plus the codes it left out — each produced by a
real request to the reference app over the live database (and Redis, for 429/503).

Every error row is also checked for RFC 9457 shape: ``application/problem+json`` with ``type``,
``title``, ``status`` equal to the HTTP status, and the headers its status requires.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

import httpx
import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from reference.api_design.gate import MAX_BODY_BYTES
from reference.api_design.ratelimit import RateLimit
from reference.api_design.seed import Cast
from reference.config import Settings

Scenario = Callable[["World"], httpx.Response]

# starlette's TestClient is annotated against httpx2, which is not installed: its methods type as Any
# here, so each scenario says what they return.


@dataclass
class World:
    client: TestClient
    cast: Cast
    make_app: Callable[..., FastAPI]
    api_db: str
    settings: Settings
    redis_prefix: str

    def h(self, name: str = "admin", **extra: str) -> dict[str, str]:
        return {**self.cast.headers(name), **extra}

    def id(self, name: str) -> str:
        return str(self.cast.principals[name].user_id)

    def etag(self, name: str) -> str:
        etag: str = self.client.get(f"/users/{self.id(name)}", headers=self.h()).headers["ETag"]
        return etag


def _304(w: World) -> httpx.Response:
    return cast(
        httpx.Response,
        w.client.get(f"/users/{w.id('bob')}", headers=w.h(**{"If-None-Match": w.etag("bob")})),
    )


def _400(w: World) -> httpx.Response:
    return cast(
        httpx.Response,
        w.client.post(
            "/users",
            content=b'{"email": "broken',
            headers=w.h(**{"Content-Type": "application/json"}),
        ),
    )


def _412(w: World) -> httpx.Response:
    stale = w.etag("bob")
    w.client.patch(f"/users/{w.id('bob')}", json={"name": "B1"}, headers=w.h(**{"If-Match": stale}))
    return cast(
        httpx.Response,
        w.client.patch(
            f"/users/{w.id('bob')}", json={"name": "B2"}, headers=w.h(**{"If-Match": stale})
        ),
    )


def _429(w: World) -> httpx.Response:
    limit = RateLimit(w.settings.redis_url, limit=2, window_seconds=60, prefix=w.redis_prefix)
    with TestClient(w.make_app(rate_limit=limit)) as limited:
        for _ in range(2):
            assert limited.get("/", headers=w.h("alice")).status_code == 200
        return cast(httpx.Response, limited.get("/", headers=w.h("alice")))


def _500(w: World) -> httpx.Response:
    with psycopg.connect(w.api_db, autocommit=True) as connection:
        connection.execute("ALTER TABLE users RENAME COLUMN name TO secret_column_name")
    return cast(httpx.Response, w.client.get(f"/users/{w.id('bob')}", headers=w.h()))


def _503_database(w: World) -> httpx.Response:
    gone = w.api_db.rsplit("/", 1)[0] + "/database_that_does_not_exist"
    with TestClient(w.make_app(database_url=gone)) as broken:
        return cast(httpx.Response, broken.get(f"/users/{w.id('bob')}", headers=w.h()))


def _503_redis(w: World) -> httpx.Response:
    limit = RateLimit("redis://:course@127.0.0.1:1/0", limit=5, prefix=w.redis_prefix)
    with TestClient(w.make_app(rate_limit=limit)) as broken:
        return cast(httpx.Response, broken.get("/", headers=w.h()))


ROWS: list[tuple[int, str, Scenario, dict[str, str]]] = [
    (200, "GET a user", lambda w: w.client.get(f"/users/{w.id('bob')}", headers=w.h()), {}),
    (
        201,
        "POST /users",
        lambda w: w.client.post(
            "/users",
            json={"email": "new@example.com", "name": "New", "password": "long enough"},
            headers=w.h(),
        ),
        {"Location": "/users/"},
    ),
    (204, "DELETE a user", lambda w: w.client.delete(f"/users/{w.id('bob')}", headers=w.h()), {}),
    (304, "GET with a matching If-None-Match", _304, {"ETag": '"'}),
    (400, "a body that is not JSON", _400, {}),
    (
        401,
        "no Authorization header",
        lambda w: w.client.get("/users"),
        {"WWW-Authenticate": "Bearer"},
    ),
    (
        401,
        "a Basic credential (not Bearer)",
        lambda w: w.client.get("/users", headers={"Authorization": "Basic dXNlcjpwYXNz"}),
        {"WWW-Authenticate": "Bearer"},
    ),
    (
        401,
        "an unknown token",
        lambda w: w.client.get("/users", headers={"Authorization": "Bearer nope"}),
        {"WWW-Authenticate": "Bearer"},
    ),
    (403, "a plain user lists users", lambda w: w.client.get("/users", headers=w.h("alice")), {}),
    (
        404,
        "an unknown id",
        lambda w: w.client.get("/users/00000000-0000-4000-8000-000000000000", headers=w.h()),
        {},
    ),
    (404, "an unknown route", lambda w: w.client.get("/no/such/route", headers=w.h()), {}),
    (
        405,
        "DELETE on the collection",
        lambda w: w.client.delete("/users", headers=w.h()),
        {"Allow": "GET, HEAD, POST"},
    ),
    (
        409,
        "a duplicate e-mail",
        lambda w: w.client.post(
            "/users",
            json={"email": "Bob@Example.com", "name": "Bob", "password": "long enough"},
            headers=w.h(),
        ),
        {},
    ),
    (412, "If-Match with a stale ETag", _412, {}),
    (
        413,
        "a body above the cap",
        lambda w: w.client.post(
            "/users",
            content=b" " * (MAX_BODY_BYTES + 1),
            headers=w.h(**{"Content-Type": "application/json"}),
        ),
        {},
    ),
    (
        415,
        "a body that is not application/json",
        lambda w: w.client.post(
            "/users", content=b"name=x", headers=w.h(**{"Content-Type": "text/plain"})
        ),
        {},
    ),
    (422, "limit above 100", lambda w: w.client.get("/users?limit=101", headers=w.h()), {}),
    (
        428,
        "PUT without If-Match",
        lambda w: w.client.put(
            f"/users/{w.id('bob')}", json={"email": "b@example.com", "name": "Bob"}, headers=w.h()
        ),
        {},
    ),
    (429, "the third request in a window of two", _429, {"Retry-After": ""}),
    (500, "an unexpected database error", _500, {}),
    (503, "the database is unreachable", _503_database, {"Retry-After": ""}),
    (503, "Redis (the rate limiter) is unreachable", _503_redis, {"Retry-After": ""}),
]


@pytest.fixture
def world(
    client: TestClient,
    cast: Cast,
    make_app: Callable[..., FastAPI],
    api_db: str,
    settings: Settings,
    redis_prefix: str,
) -> World:
    return World(client, cast, make_app, api_db, settings, redis_prefix)


@pytest.mark.parametrize(
    ("status", "scenario", "headers"),
    [
        pytest.param(status, fn, headers, id=f"{status}-{name}")
        for status, name, fn, headers in ROWS
    ],
)
def test_status_code_table(
    world: World, status: int, scenario: Scenario, headers: dict[str, str]
) -> None:
    response = scenario(world)
    assert response.status_code == status, response.text
    for name, prefix in headers.items():
        assert response.headers[name].startswith(prefix), (name, response.headers.get(name))
    if "Retry-After" in headers:
        assert response.headers["Retry-After"].isdigit()
        assert int(response.headers["Retry-After"]) >= 1
    if status >= 400:
        assert response.headers["content-type"] == "application/problem+json"
        body = response.json()
        assert {"type", "title", "status", "instance"} <= body.keys()
        assert body["status"] == status
    if status == 422:
        assert body["errors"][0]["loc"] == ["query", "limit"]
    if status == 500:
        assert "secret_column_name" not in response.text
        assert "column" not in response.text.lower()
        assert body["detail"] == "An unexpected error occurred."
    if status in (204, 304):
        assert response.content == b""


def test_every_documented_code_has_a_row() -> None:
    table = {200, 201, 204, 400, 401, 403, 404, 409, 422, 429, 500}  # the guide's table
    omitted = {304, 405, 412, 413, 415, 428, 503}  # what it left out
    assert {status for status, *_ in ROWS} == table | omitted
