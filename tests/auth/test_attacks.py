"""The attack suite: forged and misused tokens against every entry point — the REST app, the
GraphQL app and the gRPC server of chapter 01, each authenticating through the JWT authenticator.

Each attack is refused with the entry point's "unauthenticated" answer (401 + ``WWW-Authenticate:
Bearer``, GraphQL ``UNAUTHENTICATED``, gRPC ``UNAUTHENTICATED``) and reaches no handler: REST
route functions are counted, GraphQL's engine sends no statement, the gRPC repository is never
called. A valid token through the same path is the positive control.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import inspect
import json
import time
import uuid
from collections.abc import Iterator
from concurrent import futures
from typing import Any

import grpc
import httpx
import pytest
import redis
from cryptography.hazmat.primitives import serialization
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import Connection, create_engine

from reference.api_design.app import create_app as create_rest_app
from reference.api_design.auth import Principal
from reference.api_design.graphql.app import create_app as create_graphql_app
from reference.api_design.graphql.background import BackgroundServer, serve_in_background
from reference.api_design.graphql.statements import count_statements
from reference.api_design.grpc.auth import bearer_channel
from reference.api_design.grpc.gen.user.v1 import user_pb2, user_pb2_grpc
from reference.api_design.grpc.repository import UserRecord, UserRepository
from reference.api_design.grpc.server import RunningServer, start_server
from reference.api_design.grpc.servicer import LISTENING, UserServicer
from reference.api_design.seed import CHEAP_HASHER, Cast, seed_cast
from reference.auth.authenticator import JwtAuthenticator
from reference.auth.keys import KeyRing, generate_key
from reference.auth.refresh import RefreshRefused, SessionStore
from reference.auth.tokens import TokenIssuer, TokenVerifier, ring_source
from reference.config import to_sqlalchemy_url
from reference.databases.migrate import upgrade

ISSUER, AUDIENCE = "https://auth.course.test", "course-api"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(claims).encode())


def _claims(sub: str, **extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": sub,
        "iat": now,
        "exp": now + 600,
        "roles": ["admin"],
        "ver": 0,
        **extra,
    }


class World:
    """The course's issuer (RS256, so the HS256-with-public-key attack has a PEM to abuse), its
    session store, the authenticator every entry point uses, and alice (a plain user)."""

    def __init__(self, client: redis.Redis, prefix: str, alice: uuid.UUID) -> None:
        self.ring = KeyRing(generate_key("RS256", kid="k1"))
        self.issuer = TokenIssuer(self.ring, ISSUER, AUDIENCE)
        self.sessions = SessionStore(client, self.issuer, lambda _sub: ["user"], prefix=prefix)
        verifier = TokenVerifier(ring_source(self.ring), ISSUER, AUDIENCE)
        self.authenticator = JwtAuthenticator([verifier], self.sessions)
        self.alice = str(alice)

    def attacks(self) -> dict[str, str]:
        sub, signer = self.alice, self.ring.signer
        pem = signer.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        confused_input = _unsigned({"alg": "HS256", "typ": "at+jwt", "kid": "k1"}, _claims(sub))
        confused = (
            confused_input
            + "."
            + _b64(hmac.new(pem, confused_input.encode(), hashlib.sha256).digest())
        )
        injected_input = _unsigned(
            {"alg": "HS256", "typ": "at+jwt", "kid": "../../../../dev/null"}, _claims(sub)
        )
        injected = (
            injected_input
            + "."
            + _b64(hmac.new(b"", injected_input.encode(), hashlib.sha256).digest())
        )
        stranger = KeyRing(generate_key("RS256", kid="k9"))
        now = time.time()
        stolen = self.sessions.login(sub)
        self.sessions.refresh(stolen.refresh_token)  # the user rotates
        with pytest.raises(RefreshRefused):
            self.sessions.refresh(stolen.refresh_token)  # the thief replays: family revoked
        return {
            "alg none": _unsigned({"alg": "none", "typ": "at+jwt", "kid": "k1"}, _claims(sub))
            + ".",
            "HS256 signed with the public key": confused,
            "kid injection": injected,
            "unknown kid": TokenIssuer(stranger, ISSUER, AUDIENCE).access_token(sub, ["admin"]),
            "expired": TokenIssuer(
                self.ring, ISSUER, AUDIENCE, clock=lambda: now - 3600
            ).access_token(sub, ["admin"]),
            "not yet valid": TokenIssuer(
                self.ring, ISSUER, AUDIENCE, clock=lambda: now + 3600
            ).access_token(sub, ["admin"]),
            "wrong audience (another client)": TokenIssuer(
                self.ring, ISSUER, "other-client"
            ).access_token(sub, ["admin"]),
            "wrong issuer (another realm)": TokenIssuer(
                stranger, "https://other-realm", AUDIENCE
            ).access_token(sub, ["admin"]),
            "refresh token as bearer": self.sessions.login(sub).refresh_token,
            "access token of a family revoked by replay": stolen.access_token,
            "tampered payload": self._tampered(),
        }

    def _tampered(self) -> str:
        header, _, signature = self.issuer.access_token(self.alice, ["user"]).split(".")
        claims = _claims(self.alice)  # roles: admin, signature of the user token
        return header + "." + _b64(json.dumps(claims).encode()) + "." + signature

    def valid(self) -> str:
        return self.sessions.login(self.alice).access_token


ATTACKS = [
    "alg none",
    "HS256 signed with the public key",
    "kid injection",
    "unknown kid",
    "expired",
    "not yet valid",
    "wrong audience (another client)",
    "wrong issuer (another realm)",
    "refresh token as bearer",
    "access token of a family revoked by replay",
    "tampered payload",
]


@pytest.fixture
def cast(pg_url: str) -> Cast:
    upgrade(pg_url)
    return seed_cast(pg_url)


@pytest.fixture
def world(redis_client: redis.Redis, redis_prefix: str, cast: Cast) -> World:
    return World(redis_client, redis_prefix, cast.principals["alice"].user_id)


@pytest.fixture
def attacks(world: World) -> dict[str, str]:
    return world.attacks()


# --- REST ------------------------------------------------------------------------------------


def _count_handlers(app: FastAPI) -> list[str]:
    """Wrap every route function so each call is recorded (the handler, after all dependencies)."""
    calls: list[str] = []
    for route in app.routes:
        if not isinstance(route, APIRoute):
            continue
        original = route.dependant.call
        assert original is not None
        if inspect.iscoroutinefunction(original):

            async def counted_async(
                *a: Any, _f: Any = original, _n: str = route.path, **k: Any
            ) -> Any:
                calls.append(_n)
                return await _f(*a, **k)

            route.dependant.call = functools.wraps(original)(counted_async)
        else:

            def counted(*a: Any, _f: Any = original, _n: str = route.path, **k: Any) -> Any:
                calls.append(_n)
                return _f(*a, **k)

            route.dependant.call = functools.wraps(original)(counted)
    return calls


@pytest.fixture
def rest(pg_url: str, world: World) -> Iterator[tuple[TestClient, list[str]]]:
    app = create_rest_app(pg_url, authenticator=world.authenticator, password_hasher=CHEAP_HASHER)
    calls = _count_handlers(app)
    with TestClient(app) as client:
        yield client, calls


@pytest.mark.parametrize("attack", ATTACKS)
def test_rest_refuses(
    attack: str, rest: tuple[TestClient, list[str]], attacks: dict[str, str], world: World
) -> None:
    client, calls = rest
    response = client.get(
        f"/users/{world.alice}", headers={"Authorization": f"Bearer {attacks[attack]}"}
    )
    assert response.status_code == 401, attack
    assert response.headers["www-authenticate"].startswith("Bearer "), attack
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert calls == [], f"{attack}: a handler ran"


def test_rest_valid_token_reaches_the_handler(
    rest: tuple[TestClient, list[str]], world: World
) -> None:
    client, calls = rest
    response = client.get(
        f"/users/{world.alice}", headers={"Authorization": f"Bearer {world.valid()}"}
    )
    assert response.status_code == 200
    assert len(calls) == 1


# --- GraphQL ---------------------------------------------------------------------------------


@pytest.fixture
def graphql(pg_url: str, world: World) -> Iterator[tuple[BackgroundServer, FastAPI]]:
    app = create_graphql_app(pg_url, authenticator=world.authenticator)
    running = serve_in_background(app)
    yield running, app
    running.stop()


def _me(server: BackgroundServer, token: str) -> Any:
    response = httpx.post(
        f"{server.url}/graphql",
        json={"query": "{ me { id } }"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 200
    return response.json()


def test_graphql_refuses_every_attack(
    graphql: tuple[BackgroundServer, FastAPI], attacks: dict[str, str], world: World
) -> None:
    server, app = graphql
    assert _me(server, world.valid())["data"]["me"]["id"]  # positive control (warms the pool)
    for attack in ATTACKS:
        with count_statements(app.state.engine) as log:
            body = _me(server, attacks[attack])
        assert body["data"]["me"] is None, attack
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", attack
        assert log.count == 0, f"{attack}: {log.count} statements"


# --- gRPC ------------------------------------------------------------------------------------


class CountingRepository(UserRepository):
    """The servicer's data access, counted: a refused caller must never get this far."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def get(self, conn: Connection, user_id: uuid.UUID) -> UserRecord | None:
        self.calls += 1
        return super().get(conn, user_id)


@pytest.fixture
def grpc_server(pg_url: str, world: World) -> Iterator[tuple[RunningServer, CountingRepository]]:
    repository = CountingRepository()
    running = start_server(pg_url, authenticator=world.authenticator, repository=repository)
    yield running, repository
    running.stop()


def test_grpc_refuses_every_attack(
    grpc_server: tuple[RunningServer, CountingRepository], attacks: dict[str, str], world: World
) -> None:
    running, repository = grpc_server
    request = user_pb2.GetUserRequest(id=world.alice)
    for attack in ATTACKS:
        with (
            bearer_channel(running.target, attacks[attack]) as channel,
            pytest.raises(grpc.RpcError) as refused,
        ):
            user_pb2_grpc.UserServiceStub(channel).GetUser(request, timeout=10)  # type: ignore[no-untyped-call]
        assert refused.value.code() is grpc.StatusCode.UNAUTHENTICATED, attack
    assert repository.calls == 0
    with bearer_channel(running.target, world.valid()) as channel:
        stub = user_pb2_grpc.UserServiceStub(channel)  # type: ignore[no-untyped-call]
        assert stub.GetUser(request, timeout=10).id == world.alice
    assert repository.calls == 1


def test_rest_two_authorization_headers_are_refused(
    rest: tuple[TestClient, list[str]], world: World
) -> None:
    """A valid token next to a second header: ambiguous (which did a proxy add?) → 401
    invalid_request, no handler."""
    client, calls = rest
    valid = world.valid()
    response = client.get(
        f"/users/{world.alice}",
        headers=[("Authorization", f"Bearer {valid}"), ("Authorization", f"Bearer {valid}")],
    )
    assert response.status_code == 401
    assert 'error="invalid_request"' in response.headers["www-authenticate"]
    assert calls == []


def test_grpc_interceptor_refuses_before_the_servicer(
    grpc_server: tuple[RunningServer, CountingRepository], world: World
) -> None:
    """Two authorization entries, or a scheme other than Bearer: UNAUTHENTICATED from the
    interceptor, the repository never called; a valid call still works through it."""
    running, repository = grpc_server
    request = user_pb2.GetUserRequest(id=world.alice)
    valid = world.valid()
    with grpc.insecure_channel(running.target) as channel:
        stub = user_pb2_grpc.UserServiceStub(channel)  # type: ignore[no-untyped-call]
        for metadata in (
            [("authorization", f"Bearer {valid}"), ("authorization", f"Bearer {valid}")],
            [("authorization", f"Basic {valid}")],
            [],
        ):
            with pytest.raises(grpc.RpcError) as refused:
                stub.GetUser(request, metadata=metadata, timeout=10)
            assert refused.value.code() is grpc.StatusCode.UNAUTHENTICATED, metadata
        assert repository.calls == 0
        assert (
            stub.GetUser(request, metadata=[("authorization", f"Bearer {valid}")], timeout=10).id
            == world.alice
        )
    assert repository.calls == 1


class CountingAuthenticator:
    """The world's authenticator, counting how often it is asked."""

    def __init__(self, inner: JwtAuthenticator) -> None:
        self.inner = inner
        self.calls = 0

    def __call__(self, token: str) -> Principal | None:
        self.calls += 1
        return self.inner(token)


def test_grpc_authenticates_each_call_once_in_the_interceptor(pg_url: str, world: World) -> None:
    """AuthInterceptor is the one place gRPC authenticates: a unary call and a streamed one each
    ask the authenticator exactly once — the stream's body, which runs after the handler returned,
    gets its caller from the interceptor instead of authenticating again."""
    authenticator = CountingAuthenticator(world.authenticator)
    running = start_server(pg_url, authenticator=authenticator)
    try:
        with bearer_channel(running.target, world.valid()) as channel:
            stub = user_pb2_grpc.UserServiceStub(channel)  # type: ignore[no-untyped-call]
            assert stub.GetUser(user_pb2.GetUserRequest(id=world.alice), timeout=10).id
            assert authenticator.calls == 1
            stream = stub.StreamUserUpdates(
                user_pb2.StreamUserUpdatesRequest(user_ids=[world.alice]), timeout=30
            )
            # LISTENING is sent from the stream's body, after it read its caller.
            assert LISTENING in stream.initial_metadata()
            stream.cancel()
        assert authenticator.calls == 2
    finally:
        running.stop(0)


def test_grpc_servicer_without_the_interceptor_lets_nobody_in(pg_url: str, world: World) -> None:
    """The servicer served on its own (no AuthInterceptor) refuses even a valid token with
    UNAUTHENTICATED before its repository: forgetting the interceptor fails closed, and the
    interceptor — not the servicer — is what lets callers in (``start_server`` accepts the same
    token: the positive control in the tests above)."""
    repository = CountingRepository()
    engine = create_engine(to_sqlalchemy_url(pg_url))
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    servicer = UserServicer(engine, pg_url, repository)
    user_pb2_grpc.add_UserServiceServicer_to_server(servicer, server)  # type: ignore[no-untyped-call]
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        with bearer_channel(f"127.0.0.1:{port}", world.valid()) as channel:
            stub = user_pb2_grpc.UserServiceStub(channel)  # type: ignore[no-untyped-call]
            with pytest.raises(grpc.RpcError) as refused:
                stub.GetUser(user_pb2.GetUserRequest(id=world.alice), timeout=10)
        assert refused.value.code() is grpc.StatusCode.UNAUTHENTICATED
        assert repository.calls == 0
    finally:
        server.stop(0).wait()
        engine.dispose()
