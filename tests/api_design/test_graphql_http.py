"""The GraphQL app over real sockets: uvicorn on a free port, httpx for HTTP, websocket-client for
``graphql-transport-ws`` subscriptions — the context getter, auth header and per-request loaders as a
client sees them."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest
import websocket

from reference.api_design.auth import HmacTokens, Principal
from reference.api_design.graphql.app import create_app
from reference.api_design.graphql.background import BackgroundServer, serve_in_background
from reference.api_design.graphql.events import order_channel, wait_for_listeners
from reference.api_design.graphql.seed import Seeded
from reference.api_design.graphql.statements import count_statements
from reference.databases.models import UserRole

TOKENS = HmacTokens(b"test-secret-" + b"x" * 32)


@pytest.fixture
def server(pg_url: str, seeded: Seeded) -> Iterator[BackgroundServer]:
    app = create_app(pg_url, authenticator=TOKENS)
    running = serve_in_background(app)
    running.app = app  # type: ignore[attr-defined]
    yield running
    running.stop()


def token(user_id: uuid.UUID, role: UserRole = UserRole.USER) -> str:
    return TOKENS.issue(Principal(user_id, role))


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
