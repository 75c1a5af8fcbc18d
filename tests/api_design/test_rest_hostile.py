"""Hostile input to the REST API (issue 8, section 2): each a request to the live app and database.

Every row is a client error with a problem document — never a 500, a silent duplicate, or an
answer that depends on which spelling of the same thing the client sent. The 413 rows also run
over a real socket (uvicorn), where a declared ``Content-Length`` is refused before the body is
sent and a streamed body as soon as it passes the cap.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from reference.api_design.gate import MAX_BODY_BYTES
from reference.api_design.graphql.background import serve_in_background
from reference.api_design.seed import Cast

PASSWORD = "long enough"
ORIGIN = "https://app.example.test"


def _create(client: TestClient, cast: Cast, email: str, name: str = "Someone") -> Any:
    return client.post(
        "/users",
        json={"email": email, "name": name, "password": PASSWORD},
        headers=cast.headers("admin"),
    )


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


# --- e-mail: one canonical spelling, stored, and unique -------------------------------------


@pytest.mark.parametrize(
    "email",
    [
        "carol@example.test.",
        "carol@example.test..",
        "carol@example.com.",
        "carol@@example.com",
        "carol@test",
        "carol@exa\u200bmple.com",  # a zero-width space hidden in the domain
    ],
)
def test_invalid_email_forms_are_422(client: TestClient, cast: Cast, email: str) -> None:
    assert_problem(_create(client, cast, email), 422)


@pytest.mark.parametrize(
    ("first", "second", "stored"),
    [
        ("dave@xn--exmple-cua.test", "dave@exämple.test", "dave@exämple.test"),
        ("dave@exämple.test", "dave@EXÄMPLE.TEST", "dave@exämple.test"),
        ("dave@example.test", "dave@ｅｘａｍｐｌｅ.ｔｅｓｔ", "dave@example.test"),  # fullwidth
        ("dave@example.test", "ｄａｖｅ@example.test", "dave@example.test"),
        ("Dave@Example.Test", "dave@example.test", "dave@example.test"),  # stored lower-case
        ("a@x.test", " A@X.TEST", "a@x.test"),  # stripped, then lower-cased (issue 15)
        (" A@X.TEST", "a@x.test", "a@x.test"),
        ("éve@example.test", "ÉVE@example.test", "éve@example.test"),
        ("ﬁn@example.test", "fin@example.test", "fin@example.test"),  # a ligature folds (NFKC)
    ],
)
def test_equivalent_addresses_are_stored_once_in_canonical_form(
    client: TestClient, cast: Cast, api_db: str, first: str, second: str, stored: str
) -> None:
    created = _create(client, cast, first)
    assert created.status_code == 201, created.text
    assert created.json()["data"]["email"] == stored
    assert_problem(_create(client, cast, second), 409)
    with psycopg.connect(api_db) as connection:
        rows = connection.execute(
            "SELECT email FROM users WHERE email NOT LIKE '%%@example.com'"
        ).fetchall()
    assert rows == [(stored,)]


def test_changing_email_to_an_equivalent_spelling_of_a_taken_one_is_409(
    client: TestClient, cast: Cast
) -> None:
    bob = cast.principals["bob"].user_id
    tag = client.get(f"/users/{bob}", headers=cast.headers("bob")).headers["ETag"]
    response = client.patch(
        f"/users/{bob}",
        json={"email": "ａｌｉｃｅ@ＥＸＡＭＰＬＥ.com"},
        headers={**cast.headers("bob"), "If-Match": tag},
    )
    assert_problem(response, 409)


# --- names and passwords: the same rule as GraphQL and gRPC --------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "   ",
        "    ",
        "   a",  # stripped first, then measured: one character (issue 15)
        " a ",
        "a",
        "\u3000",
        "",
        "tab\there",
        "new\nline",
        "nul\x00",
        "bell\x07",
        "x" * 101,
        "evil\u202egnp.exe",  # a bidi override makes text display other than it reads
    ],
)
def test_blank_or_control_character_names_are_422(
    client: TestClient, cast: Cast, name: str
) -> None:
    assert_problem(_create(client, cast, "erin@example.com", name=name), 422)


def test_names_are_stored_stripped(client: TestClient, cast: Cast) -> None:
    created = _create(client, cast, "erin@example.com", name="  Erin Ö  ")
    assert created.status_code == 201
    assert created.json()["data"]["name"] == "Erin Ö"


def test_a_two_character_name_is_the_shortest_accepted(client: TestClient, cast: Cast) -> None:
    created = _create(client, cast, "erin@example.com", name="   Yu ")
    assert created.status_code == 201, created.text
    assert created.json()["data"]["name"] == "Yu"


@pytest.mark.parametrize(
    "password",
    [
        '"' + "x" * 129 + '"',
        '"short"',
        '"nul\\u0000byte-pass"',
        '"' + "\\ud800" * 9 + '"',
        '"password123"',
        '"erin@example.com"',
        "12345678",
    ],
    ids=["129-chars", "short", "nul", "lone-surrogates", "breached", "own-email", "number"],
)
def test_passwords_outside_the_rule_are_422(client: TestClient, cast: Cast, password: str) -> None:
    response = client.post(
        "/users",
        content=f'{{"email": "erin@example.com", "name": "Erin", "password": {password}}}'.encode(),
        headers={**cast.headers("admin"), "Content-Type": "application/json"},
    )
    assert_problem(response, 422)


# --- HEAD and CORS --------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/users", "/users/{bob}", "/users/{bob}/orders"])
def test_head_answers_like_get_without_a_body(client: TestClient, cast: Cast, path: str) -> None:
    url = path.format(bob=cast.principals["bob"].user_id)
    get = client.get(url, headers=cast.headers("admin"))
    head = client.head(url, headers=cast.headers("admin"))
    assert (get.status_code, head.status_code) == (200, 200)
    assert head.content == b""
    assert head.headers.get("ETag") == get.headers.get("ETag")
    assert head.headers["content-type"] == get.headers["content-type"]
    assert client.head(url).status_code == 401


def test_405_lists_head_in_allow(client: TestClient, cast: Cast) -> None:
    response = client.delete("/users", headers=cast.headers("admin"))
    assert_problem(response, 405)
    assert response.headers["Allow"] == "GET, HEAD, POST"


def test_cors_preflight_is_answered_for_an_allowed_origin(
    make_app: Callable[..., FastAPI], cast: Cast
) -> None:
    bob = cast.principals["bob"].user_id
    with TestClient(make_app(cors_origins=[ORIGIN])) as client:
        preflight = client.options(
            f"/users/{bob}",
            headers={
                "Origin": ORIGIN,
                "Access-Control-Request-Method": "PATCH",
                "Access-Control-Request-Headers": "authorization, content-type, if-match",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["Access-Control-Allow-Origin"] == ORIGIN
        assert "PATCH" in preflight.headers["Access-Control-Allow-Methods"]
        allowed = preflight.headers["Access-Control-Allow-Headers"].lower()
        assert {"authorization", "content-type", "if-match"} <= {
            h.strip() for h in allowed.split(",")
        }
        actual = client.get(f"/users/{bob}", headers={**cast.headers("admin"), "Origin": ORIGIN})
        assert actual.headers["Access-Control-Allow-Origin"] == ORIGIN
        assert "etag" in actual.headers["Access-Control-Expose-Headers"].lower()
        refused = client.options(
            "/users",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        )
        assert "Access-Control-Allow-Origin" not in refused.headers
        assert_problem(refused, 400)


# --- the body: authentication first, then media type, size and syntax ----------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Type": "text/plain"},
        {"Content-Type": "application/x-www-form-urlencoded"},
        {"Content-Type": "multipart/form-data; boundary=x"},
        {"Content-Type": "application/json; charset=latin-1"},
        {},
    ],
    ids=["text", "form", "multipart", "latin-1", "none"],
)
def test_a_body_that_is_not_json_is_415(
    client: TestClient, cast: Cast, headers: dict[str, str]
) -> None:
    alice = f"/users/{cast.principals['alice'].user_id}"
    for method, url in (("POST", "/users"), ("PUT", alice), ("PATCH", alice)):
        response = client.request(
            method,
            url,
            content=b'{"email": "x@example.com", "name": "X", "password": "long enough"}',
            headers={**cast.headers("admin"), "If-Match": "*", **headers},
        )
        body = assert_problem(response, 415)
        assert "application/json" in body["detail"]


@pytest.mark.parametrize(
    "content",
    [b'{"email": "broken', b"\xff\xfe{}", b"not json", b'{"a": NaN}'],
    ids=["truncated", "bad-utf8", "text", "nan"],
)
def test_anonymous_callers_are_401_whatever_the_body(client: TestClient, content: bytes) -> None:
    response = client.post("/users", content=content, headers={"Content-Type": "text/plain"})
    assert_problem(response, 401)
    response = client.post("/users", content=content, headers={"Content-Type": "application/json"})
    assert_problem(response, 401)


@pytest.mark.parametrize(
    "content",
    [
        b'{"email": "broken',
        b"\xff\xfe{}",
        b'{"email": "x@example.com", "name": "X", "password": "long enough", "name": "Y"}',
        b'{"email": "x@example.com", "name": "X", "password": NaN}',
        b"[" * 5000 + b"]" * 5000,
        b'{"name": ' + b"9" * 5000 + b"}",
    ],
    ids=["truncated", "bad-utf8", "duplicate-key", "nan", "deep-nesting", "huge-number"],
)
def test_a_body_that_is_not_strict_json_is_400(
    client: TestClient, cast: Cast, content: bytes
) -> None:
    response = client.post(
        "/users",
        content=content,
        headers={**cast.headers("admin"), "Content-Type": "application/json"},
    )
    assert_problem(response, 400)


@pytest.mark.parametrize("content", [b"", b"null", b"[]", b'"x"', b"42"])
def test_a_body_that_is_not_an_object_is_422(
    client: TestClient, cast: Cast, content: bytes
) -> None:
    response = client.post(
        "/users",
        content=content,
        headers={**cast.headers("admin"), "Content-Type": "application/json"},
    )
    assert_problem(response, 422)


def test_a_body_above_the_cap_is_413(client: TestClient, cast: Cast) -> None:
    padding = "x" * (MAX_BODY_BYTES + 1)
    response = client.post(
        "/users",
        content=f'{{"email": "x@example.com", "name": "{padding}", "password": "p"}}'.encode(),
        headers={**cast.headers("admin"), "Content-Type": "application/json"},
    )
    body = assert_problem(response, 413)
    assert str(MAX_BODY_BYTES) in body["detail"]


@pytest.fixture
def live(make_app: Callable[..., FastAPI]) -> Iterator[tuple[str, int]]:
    """The reference app served by uvicorn on a free port (a real socket, real HTTP/1.1)."""
    server = serve_in_background(make_app())
    try:
        yield "127.0.0.1", server.port
    finally:
        server.stop()


def _exchange(address: tuple[str, int], head: bytes, chunks: Iterable[bytes] = ()) -> bytes:
    """Send ``head`` and then ``chunks`` until the server answers; return the status line."""
    with socket.create_connection(address, timeout=30) as sock:
        sock.sendall(head)
        for chunk in chunks:
            try:
                sock.sendall(chunk)
            except OSError:  # the server answered and closed: it stopped reading, as it should
                break
        return sock.recv(65536).split(b"\r\n", 1)[0]


def test_a_declared_content_length_above_the_cap_is_413_before_the_body_is_sent(
    live: tuple[str, int], cast: Cast
) -> None:
    head = (
        b"POST /users HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        + f"Authorization: Bearer {cast.token('admin')}\r\n".encode()
        + b"Content-Length: 10485760\r\n\r\n"
    )
    assert _exchange(live, head).startswith(b"HTTP/1.1 413 ")


def test_a_streamed_body_is_cut_off_at_the_cap(live: tuple[str, int], cast: Cast) -> None:
    head = (
        b"POST /users HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        + f"Authorization: Bearer {cast.token('admin')}\r\n".encode()
        + b"Transfer-Encoding: chunked\r\n\r\n"
    )
    chunk = b"x" * 16384
    chunks = (b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(640))  # 10 MB, never ended
    assert _exchange(live, head, chunks).startswith(b"HTTP/1.1 413 ")


# --- ids and query strings: one canonical form, nothing unknown ----------------------------


@pytest.mark.parametrize(
    "spelling",
    [
        lambda u: "{" + u + "}",
        lambda u: "urn:uuid:" + u,
        lambda u: u.replace("-", ""),
        lambda u: u.upper(),
        lambda u: u + "%00",
        lambda u: " " + u,
    ],
    ids=["braces", "urn", "undashed", "uppercase", "nul", "space"],
)
def test_only_the_canonical_uuid_resolves(
    client: TestClient, cast: Cast, spelling: Callable[[str], str]
) -> None:
    bob = str(cast.principals["bob"].user_id)
    for path in ("/users/{id}", "/users/{id}/orders"):
        assert client.get(path.format(id=bob), headers=cast.headers("admin")).status_code == 200
        response = client.get(path.format(id=spelling(bob)), headers=cast.headers("admin"))
        body = assert_problem(response, 422)
        assert body["errors"][0]["loc"] == ["path", "user_id"]


@pytest.mark.parametrize(
    "query",
    [
        "/users/{bob}/orders?sort=-total",
        "/users/{bob}/orders?pagee=2",
        "/users/{bob}?fields=password_hash",
        "/?debug=1",
        "/users?page=1&page=2",
        "/users/{bob}/orders?limit=5&limit=500",
        "/users?sort=%00",
        "/users?page=%00",
        "/users?page=" + "9" * 40,
        "/users?page=99999999999999999999",
        "/users?page=%EF%BC%91",  # fullwidth digit one
        "/users?limit=1e2",
        "/users/{bob}/orders?page=9223372036854775808",
        # Other spellings of a number pydantic's lax int reads: one page, one URL.
        "/users?page=%2B2",
        "/users?page=%202",
        "/users?page=02",
        "/users?page=1_0",
        "/users?page=2.0",
        "/users/{bob}/orders?limit=5%20",
    ],
)
def test_unknown_repeated_or_hostile_query_parameters_are_422(
    client: TestClient, cast: Cast, query: str
) -> None:
    url = query.format(bob=cast.principals["bob"].user_id)
    body = assert_problem(client.get(url, headers=cast.headers("admin")), 422)
    assert body["errors"][0]["loc"][0] == "query"


def test_the_deepest_page_allowed_is_answered(client: TestClient, cast: Cast) -> None:
    response = client.get("/users?page=1000000&limit=100", headers=cast.headers("admin"))
    assert response.status_code == 200
    assert response.json()["data"] == []
