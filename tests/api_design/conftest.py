"""Fixtures for chapter 01: a migrated database, seeded principals and orders, app clients, engines,
and the gRPC server with per-principal stubs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
import pytest_asyncio
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from reference.api_design.app import create_app
from reference.api_design.graphql.app import make_engine
from reference.api_design.graphql.seed import Seeded, seed_users_with_orders
from reference.api_design.grpc.auth import bearer_channel
from reference.api_design.grpc.gen.user.v1 import user_pb2_grpc
from reference.api_design.grpc.server import RunningServer, start_server
from reference.api_design.seed import CHEAP_HASHER, Cast, seed_cast
from reference.databases.migrate import upgrade


@pytest.fixture
def api_db(pg_url: str) -> str:
    """The test's own database with the course schema at head (Alembic migrations)."""
    upgrade(pg_url)
    return pg_url


@pytest.fixture
def cast(api_db: str) -> Cast:
    """admin, manager, alice and bob in the database, each with a bearer token."""
    return seed_cast(api_db)


@pytest.fixture
def make_app(api_db: str, cast: Cast) -> Callable[..., FastAPI]:
    """``make_app(**overrides)``: the reference app on the test database, cast tokens accepted."""

    def build(**overrides: Any) -> FastAPI:
        options: dict[str, Any] = {
            "authenticator": cast.authenticator,
            "password_hasher": CHEAP_HASHER,
        }
        options.update(overrides)
        database_url = options.pop("database_url", api_db)
        return create_app(database_url, **options)

    return build


@pytest.fixture
def client(make_app: Callable[..., FastAPI]) -> Iterator[TestClient]:
    """A client of the reference app (real HTTP semantics through Starlette's test transport)."""
    with TestClient(make_app()) as test_client:
        yield test_client


@pytest.fixture
def seeded(api_db: str) -> Seeded:
    """60 users with 7 orders each, for the GraphQL tests (pages of 50 with orders nested)."""
    return seed_users_with_orders(api_db, users=60, orders_per_user=7)


@pytest_asyncio.fixture
async def engine(pg_url: str) -> AsyncIterator[AsyncEngine]:
    """The GraphQL app's async engine on the test database."""
    engine = make_engine(pg_url)
    async with (
        engine.connect()
    ):  # first connect runs dialect setup queries; keep them out of counts
        pass
    yield engine
    await engine.dispose()


@pytest.fixture
def grpc_server(api_db: str, cast: Cast) -> Iterator[RunningServer]:
    """The reference gRPC server on the test database, accepting the cast's tokens (as REST does)."""
    running = start_server(api_db, authenticator=cast.authenticator)
    yield running
    running.stop(0)


@pytest.fixture
def grpc_as(
    grpc_server: RunningServer, cast: Cast
) -> Iterator[Callable[[str], user_pb2_grpc.UserServiceStub]]:
    """``grpc_as("alice")``: a stub whose every call carries alice's bearer token."""
    channels = []

    def stub_for(name: str) -> user_pb2_grpc.UserServiceStub:
        channel = bearer_channel(grpc_server.target, cast.token(name))
        channels.append(channel)
        return user_pb2_grpc.UserServiceStub(channel)  # type: ignore[no-untyped-call]

    yield stub_for
    for channel in channels:
        channel.close()
