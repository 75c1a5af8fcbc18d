"""The GraphQL app over real sockets: uvicorn on a free port, httpx for HTTP, websocket-client for
``graphql-transport-ws`` subscriptions — the context getter, auth header and per-request loaders as a
client sees them, and the hostile requests of issue 8 (oversized, malformed, mistyped, ambiguous),
each a clear client error."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import graphql
import httpx
import psycopg
import pytest
import strawberry.schema.schema as strawberry_schema
import websocket

from reference.api_design.auth import Principal
from reference.api_design.graphql import preparation
from reference.api_design.graphql.app import app_from_env, create_app
from reference.api_design.graphql.background import BackgroundServer, serve_in_background
from reference.api_design.graphql.events import order_channel, wait_for_listeners
from reference.api_design.graphql.limits import MAX_BODY_BYTES
from reference.api_design.graphql.seed import Seeded
from reference.api_design.graphql.statements import count_statements
from reference.auth.authenticator import JwtAuthenticator, access_token_for
from reference.auth.keys import KeyRing, generate_key
from reference.auth.tokens import TokenIssuer
from reference.databases.models import UserRole

# The course's own EdDSA access tokens, verified from the issuer's public JWKS (chapter 03).
ISSUER = TokenIssuer(KeyRing(generate_key()), "https://auth.course.test", "course-api")


@pytest.fixture
def server(pg_url: str, seeded: Seeded) -> Iterator[BackgroundServer]:
    app = create_app(pg_url, authenticator=JwtAuthenticator.of(ISSUER))
    running = serve_in_background(app)
    running.app = app  # type: ignore[attr-defined]
    yield running
    running.stop()


def token(user_id: uuid.UUID, role: UserRole = UserRole.USER) -> str:
    return access_token_for(ISSUER, Principal(user_id, role))


def post(server: BackgroundServer, query: str, bearer: str | None, **variables: Any) -> Any:
    headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
    response = httpx.post(
        f"{server.url}/graphql",
        json={"query": query, "variables": variables},
        headers=headers,
        timeout=10,
    )
    assert response.status_code == 200
    return response.json()


def test_nested_query_over_http_runs_at_most_three_statements(
    server: BackgroundServer, seeded: Seeded
) -> None:
    """The same ≤3-statement guarantee through the real app, context getter included."""
    query = "{ users(first: 50) { edges { node { orders(first: 5) { edges { node { id } } } } } } }"
    admin = token(seeded.admin_id, UserRole.ADMIN)
    post(server, "{ me { id } }", admin)  # warm the pool
    with count_statements(server.app.state.engine) as log:  # type: ignore[attr-defined]
        body = post(server, query, admin)
    assert "errors" not in body
    assert len(body["data"]["users"]["edges"]) == 50
    assert log.count <= 3


def test_bad_or_missing_tokens_are_unauthenticated(
    server: BackgroundServer, seeded: Seeded
) -> None:
    """A forged signature, a missing header or another scheme: UNAUTHENTICATED, never a wrong caller."""
    forged = token(seeded.user_ids[0])[:-4] + "AAAA"
    assert post(server, "{ me { id } }", forged)["errors"][0]["extensions"]["code"] == (
        "UNAUTHENTICATED"
    )
    assert post(server, "{ me { id } }", None)["errors"][0]["extensions"]["code"] == (
        "UNAUTHENTICATED"
    )
    # A valid token under another scheme is not a bearer token (RFC 6750, as in the REST app).
    not_bearer = httpx.post(
        f"{server.url}/graphql",
        json={"query": "{ me { id } }"},
        headers={"Authorization": f"Basic {token(seeded.user_ids[0])}"},
        timeout=10,
    ).json()
    assert not_bearer["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_app_from_env_verifies_with_the_issuers_public_jwks(
    pg_url: str, seeded: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``app_from_env`` (what uvicorn and the bench run) gets only the issuer's public JWKS: the
    issuer's tokens are accepted, another key's are UNAUTHENTICATED, and it will not start
    without a key set."""
    monkeypatch.setenv("DATABASE_URL", pg_url)
    monkeypatch.setenv("TOKEN_ISSUER", ISSUER.issuer)
    monkeypatch.setenv("TOKEN_AUDIENCE", ISSUER.audience)
    monkeypatch.delenv("TOKEN_JWKS", raising=False)
    with pytest.raises(RuntimeError, match="TOKEN_JWKS"):
        app_from_env()
    public = ISSUER.keys.jwks()
    assert all("d" not in key for key in public["keys"]), "no private key material"
    monkeypatch.setenv("TOKEN_JWKS", json.dumps(public))
    running = serve_in_background(app_from_env())
    try:
        me = seeded.user_ids[0]
        assert post(running, "{ me { id } }", token(me))["data"]["me"]["id"] == str(me)
        stranger = TokenIssuer(KeyRing(generate_key()), ISSUER.issuer, ISSUER.audience)
        refused = post(
            running, "{ me { id } }", access_token_for(stranger, Principal(me, UserRole.USER))
        )
        assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    finally:
        running.stop()


def test_each_http_request_gets_fresh_loaders(
    server: BackgroundServer, seeded: Seeded, pg_url: str
) -> None:
    """A rename between two requests is visible to the next caller (no cache shared across them)."""
    me = seeded.user_ids[0]
    assert post(server, "{ me { name } }", token(me))["data"] == {"me": {"name": "User 1"}}
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("UPDATE users SET name = 'Renamed' WHERE id = %s", (me,))
    admin = token(seeded.admin_id, UserRole.ADMIN)
    body = post(server, "query($id: ID!) { user(id: $id) { name } }", admin, id=str(me))
    assert body["data"] == {"user": {"name": "Renamed"}}


class Subscriber:
    """A graphql-transport-ws client of ``orderStatusChanged``."""

    def __init__(self, server: BackgroundServer, bearer: str) -> None:
        self.ws = websocket.create_connection(
            server.url.replace("http", "ws") + "/graphql",
            subprotocols=["graphql-transport-ws"],
            header=[f"Authorization: Bearer {bearer}"],
            timeout=10,
        )
        self.ws.send(json.dumps({"type": "connection_init"}))
        assert json.loads(self.ws.recv())["type"] == "connection_ack"
        self.ws.send(
            json.dumps(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {"query": "subscription { orderStatusChanged { id status } }"},
                }
            )
        )

    def next_event(self) -> Any:
        message = json.loads(self.ws.recv())
        assert message["type"] == "next", message
        return message["payload"]["data"]["orderStatusChanged"]

    def close(self) -> None:
        self.ws.close()


def test_subscription_over_websocket_is_scoped_to_the_caller(
    server: BackgroundServer, seeded: Seeded, pg_url: str
) -> None:
    """Alice's socket receives Alice's order change; Bob's first event is Bob's, not Alice's."""
    alice, bob = seeded.user_ids[0], seeded.user_ids[1]
    with psycopg.connect(pg_url) as conn:
        orders = {
            who: str(
                conn.execute(
                    "SELECT id FROM orders WHERE user_id = %s ORDER BY created_at LIMIT 1", (who,)
                ).fetchone()[0]  # type: ignore[index]
            )
            for who in (alice, bob)
        }
    alice_socket, bob_socket = Subscriber(server, token(alice)), Subscriber(server, token(bob))
    try:
        assert wait_for_listeners(pg_url, order_channel(alice)) == 1
        assert wait_for_listeners(pg_url, order_channel(bob)) == 1
        admin = token(seeded.admin_id, UserRole.ADMIN)
        mutation = """mutation($id: ID!, $s: OrderStatus!) {
            updateOrderStatus(id: $id, status: $s) { order { id } } }"""
        post(server, mutation, admin, id=orders[alice], s="PAID")
        post(server, mutation, admin, id=orders[bob], s="DELIVERED")
        assert alice_socket.next_event() == {"id": orders[alice], "status": "PAID"}
        assert bob_socket.next_event() == {"id": orders[bob], "status": "DELIVERED"}
    finally:
        alice_socket.close()
        bob_socket.close()


def listening(pg_url: str, user_id: uuid.UUID) -> int:
    """How many sessions LISTEN on ``user_id``'s channel now."""
    return wait_for_listeners(pg_url, order_channel(user_id), count=2**31, timeout=0)


def test_subscriptions_beyond_the_bound_are_refused_and_queries_keep_answering(
    pg_url: str, seeded: Seeded
) -> None:
    """Each subscription holds a PostgreSQL connection (LISTEN), so unbounded, one client opening
    hundreds would use up the database's max_connections for every application on it (the twin of
    gRPC's stream bound). Beyond the server's bound a subscription is refused at once with
    RESOURCE_EXHAUSTED; queries keep answering; closing a subscription gives its slot back."""
    app = create_app(pg_url, authenticator=JwtAuthenticator.of(ISSUER), max_subscriptions=2)
    running = serve_in_background(app)
    alice = seeded.user_ids[0]
    subscribers = [Subscriber(running, token(alice)) for _ in range(2)]
    try:
        assert wait_for_listeners(pg_url, order_channel(alice), count=2) == 2
        refused = Subscriber(running, token(alice))
        subscribers.append(refused)
        refusal = json.loads(refused.ws.recv())
        assert (refusal["type"], refusal["payload"]["data"]) == ("next", None), refusal
        assert [error["extensions"]["code"] for error in refusal["payload"]["errors"]] == [
            "RESOURCE_EXHAUSTED"
        ]
        assert json.loads(refused.ws.recv())["type"] == "complete"
        assert post(running, "{ me { name } }", token(alice))["data"] == {"me": {"name": "User 1"}}

        subscribers.pop(0).close()
        give_up = time.monotonic() + 30  # guards against hanging, not speed requirements
        while listening(pg_url, alice) > 1:  # the closed subscription's connection is gone
            assert time.monotonic() < give_up, "the closed subscription kept its connection"
            time.sleep(0.05)
        while True:  # its slot is freed just after: a subscription opened now is served
            subscribers.append(Subscriber(running, token(alice)))
            if wait_for_listeners(pg_url, order_channel(alice), count=2) == 2:
                break
            assert time.monotonic() < give_up, "the closed subscription's slot never came back"
    finally:
        for subscriber in subscribers:
            subscriber.close()
        running.stop()


# --- hostile requests (issue 8, section 2) ---------------------------------------------------


def send(server: BackgroundServer, bearer: str | None = None, **request: Any) -> httpx.Response:
    """A raw request to ``/graphql`` (POST unless ``method`` says otherwise)."""
    method = request.pop("method", "POST")
    headers = {"Authorization": f"Bearer {bearer}", **request.pop("headers", {})} if bearer else {}
    headers.update(request.pop("extra_headers", {}))
    return httpx.request(method, f"{server.url}/graphql", headers=headers, timeout=30, **request)


def error_of(response: httpx.Response) -> dict[str, Any]:
    """The first GraphQL error of a JSON response — every answer, even a 4xx, is one."""
    assert response.headers["content-type"].startswith("application/json"), response.text
    errors = response.json()["errors"]
    assert errors, response.text
    assert "Unexpected error" not in response.text
    return errors[0]  # type: ignore[no-any-return]


def test_an_oversized_body_is_413_before_it_is_parsed(
    server: BackgroundServer, seeded: Seeded
) -> None:
    """A 5 MB comment before ``{__typename}`` used to be parsed (seconds of event-loop time); it is
    refused by size — declared in Content-Length or streamed in chunks — before any parsing."""
    big = {"query": "#" + "x" * 5_000_000 + "\n{ __typename }"}
    declared = send(server, json=big)
    streamed = send(
        server,
        content=iter([json.dumps(big).encode()[i : i + 65536] for i in range(0, 5_000_100, 65536)]),
        extra_headers={"content-type": "application/json"},
    )
    for response in (declared, streamed):
        assert response.status_code == 413
        error = error_of(response)
        assert error["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
        assert f"{MAX_BODY_BYTES:,}" in error["message"]
    assert send(server, json={"query": "{ __typename }"}).json() == {
        "data": {"__typename": "Query"}
    }


def test_documents_are_parsed_off_the_event_loop(
    server: BackgroundServer, seeded: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Parsing (and validating) a document is CPU work: it runs in a worker thread, so a large
    document does not stall every other request on the server's event loop."""
    on_loop: list[bool] = []

    def spy(parse: Any) -> Any:
        def parse_and_record(*args: Any, **kwargs: Any) -> Any:
            try:
                asyncio.get_running_loop()
                on_loop.append(True)
            except RuntimeError:
                on_loop.append(False)
            return parse(*args, **kwargs)

        return parse_and_record

    # Both modules import graphql-core's parse; patch the name each one looks up.
    monkeypatch.setattr(strawberry_schema, "parse", spy(graphql.parse))
    monkeypatch.setattr(preparation, "parse", spy(graphql.parse))
    admin = token(seeded.admin_id, UserRole.ADMIN)
    assert "errors" not in post(server, "{ users(first: 2) { edges { cursor } } }", admin)
    assert on_loop == [False]


ONE_OPERATION = {"query": "{ __typename }"}


@pytest.mark.parametrize(
    ("request_", "status", "expected"),
    [
        pytest.param(
            {"content": b"{not json", "extra_headers": {"content-type": "application/json"}},
            400,
            "not valid JSON",
            id="malformed-json",
        ),
        pytest.param(
            {
                "content": b'{"variables": ' + b"[" * 30_000 + b"]" * 30_000 + b"}",
                "extra_headers": {"content-type": "application/json"},
            },
            400,
            "nested too deeply",
            id="json-nested-30000-deep",
        ),
        pytest.param(
            {"content": json.dumps(ONE_OPERATION), "extra_headers": {"content-type": "text/plain"}},
            415,
            "application/json",
            id="text-plain",
        ),
        pytest.param({"content": json.dumps(ONE_OPERATION)}, 415, "application/json", id="no-type"),
        pytest.param({"data": ONE_OPERATION}, 415, "application/json", id="form"),
        pytest.param({"json": "{ __typename }"}, 400, "JSON object", id="body-is-a-string"),
        pytest.param({"json": 42}, 400, "JSON object", id="body-is-a-number"),
        pytest.param({"json": [ONE_OPERATION, ONE_OPERATION]}, 400, "Batching", id="batch"),
        pytest.param({"json": {"variables": {}}}, 400, "query", id="no-query"),
        pytest.param({"json": {"query": 5}}, 400, "query", id="query-is-a-number"),
        pytest.param({"json": {**ONE_OPERATION, "variables": "x"}}, 400, "variables", id="vars"),
        pytest.param(
            {"json": {**ONE_OPERATION, "operationName": 5}}, 400, "operationName", id="op-name"
        ),
        pytest.param(
            {"json": {"query": "query A { __typename }", "operationName": "B"}},
            400,
            '"B"',
            id="unknown-operation",
        ),
        pytest.param(
            {"json": {"query": "subscription { orderStatusChanged { id } }"}},
            400,
            "subscriptions",
            id="subscription-over-post",
        ),
        pytest.param(
            {"method": "GET", "params": {"query": "subscription { orderStatusChanged { id } }"}},
            400,
            "subscriptions",
            id="subscription-over-get",
        ),
        pytest.param(
            {"method": "GET", "params": {"query": "mutation { __typename }"}},
            400,
            "mutations",
            id="mutation-over-get",
        ),
        pytest.param(
            {"json": {"query": "query A { me { id } } query B { me { name } }"}},
            200,
            "operationName",
            id="two-operations-no-name",
        ),
        pytest.param(
            {"json": {"query": "{ users(first: 2147483647) { edges { cursor } } }"}},
            200,
            "first must be between 1 and 100",
            id="huge-first",
        ),
        pytest.param(
            {"json": {"query": "{ users(first: 99999999999) { edges { cursor } } }"}},
            200,
            "32-bit",
            id="first-beyond-int",
        ),
        pytest.param(
            {
                "json": {
                    "query": "query($f: Int!) { users(first: $f) { edges { cursor } } }",
                    "variables": {"f": "many"},
                }
            },
            200,
            "Int cannot represent",
            id="variable-of-the-wrong-type",
        ),
        pytest.param(
            {
                "json": {
                    "query": "{ me { ...A } } fragment A on User { ...B } fragment B on User { ...A }"
                }
            },
            200,
            "Cannot spread fragment",
            id="fragment-cycle",
        ),
        pytest.param(
            {
                "json": {
                    "query": "{ me { orders { edges { node { user { orders { edges { node {"
                    " user { orders { edges { node { id } } } } } } } } } } } } }"
                }
            },
            200,
            "maximum operation depth",
            id="deep-without-lists",
        ),
        pytest.param(
            {
                "json": {
                    "query": "{ __schema { types { fields { type { fields { type { fields {"
                    " name } } } } } } } }"
                }
            },
            200,
            "introspection depth",
            id="deep-introspection",
        ),
        pytest.param({"json": {"query": "{ me { "}}, 200, "Syntax Error", id="syntax-error"),
        pytest.param(
            {
                "content": b'{"query": "query($f: Int!) { users(first: $f) { edges { cursor } } }",'
                b' "variables": {"f": ' + b"9" * 5000 + b"}}",
                "extra_headers": {"content-type": "application/json"},
            },
            400,
            "digits",
            id="json-integer-of-5000-digits",
        ),
        pytest.param(
            {
                "content": b'{"query": "{ me { name } }", "variables": {"x": "\xff"}}',
                "extra_headers": {"content-type": "application/json"},
            },
            400,
            "UTF-8",
            id="json-not-utf-8",
        ),
        pytest.param(
            {"json": {"query": "{ users(first: " + "9" * 5000 + ") { edges { cursor } } }"}},
            200,
            "Expected value of type 'Int'",
            id="literal-integer-of-5000-digits",
        ),
    ],
)
def test_hostile_requests_get_clear_client_errors(
    server: BackgroundServer,
    seeded: Seeded,
    request_: dict[str, Any],
    status: int,
    expected: str,
) -> None:
    """Each malformed or abusive request is a client error with a GraphQL error body that says what
    is wrong — never "Unexpected error.", a 500 or a hang. Request errors the transport can see are
    4xx; errors found in a parsed document are 200 with ``errors`` (GraphQL over HTTP, JSON)."""
    response = send(server, token(seeded.admin_id, UserRole.ADMIN), **request_)
    assert response.status_code == status, response.text
    error = error_of(response)
    assert expected in error["message"]
    if status == 200:
        assert response.json().get("data") is None


@pytest.mark.parametrize(
    ("message", "close_code"),
    [
        pytest.param(
            json.dumps(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {"query": "#" + "x" * MAX_BODY_BYTES + "\nsubscription { x }"},
                }
            ),
            1009,
            id="over-the-cap",
        ),
        pytest.param("[" * 30_000 + "]" * 30_000, 4400, id="json-nested-30000-deep"),
        pytest.param("42", 4400, id="not-an-object"),
        pytest.param("[]", 4400, id="a-list"),
        pytest.param('{"id": "1", "type": "subscribe"}', 4400, id="no-payload"),
        pytest.param(
            json.dumps({"id": "1", "type": "subscribe", "payload": {"query": 5}}),
            4400,
            id="query-not-a-string",
        ),
        pytest.param(
            json.dumps(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {"query": "subscription { x }", "variables": "x"},
                }
            ),
            4400,
            id="variables-not-an-object",
        ),
        pytest.param(
            json.dumps({"id": 5, "type": "subscribe", "payload": {"query": "subscription { x }"}}),
            4400,
            id="id-not-a-string",
        ),
    ],
)
def test_hostile_websocket_messages_close_the_socket_cleanly(
    server: BackgroundServer, seeded: Seeded, message: str, close_code: int
) -> None:
    """The body cap holds on the WebSocket too — a message over it is refused with 1009 (message
    too big) before anything parses it — and a message that is not the protocol's (JSON too deep,
    not an object, a subscribe whose id, query or variables have the wrong type) is 4400 "invalid
    message", not a crashed worker task or a silent "complete"."""
    ws = websocket.create_connection(
        server.url.replace("http", "ws") + "/graphql",
        subprotocols=["graphql-transport-ws"],
        header=[f"Authorization: Bearer {token(seeded.user_ids[0])}"],
        timeout=10,
    )
    try:
        ws.send(json.dumps({"type": "connection_init"}))
        assert json.loads(ws.recv())["type"] == "connection_ack"
        ws.send(message)
        opcode, frame = ws.recv_data(control_frame=True)
    finally:
        ws.close()
    assert opcode == websocket.ABNF.OPCODE_CLOSE
    assert int.from_bytes(frame[:2], "big") == close_code
