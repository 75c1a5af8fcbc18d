"""Fixtures for the REST half of chapter 01: a migrated database, seeded principals, app clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from reference.api_design.app import create_app
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
