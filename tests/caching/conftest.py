"""Fixtures shared by the chapter 06 caching tests (H-aside owns this file; others may use them).

- ``redis``: a client on the course Redis (``decode_responses=True``), the session's ``redis_client``.
- ``prefix``: a key prefix owned by one test (``t_ab12…:``); every key under it is deleted afterwards.
- ``dead_redis``: a client pointed at a closed local port with short socket timeouts — the way
  these tests make "Redis is down" real without stopping the shared server.
- ``users``: ids of 3 users seeded in the test's own PostgreSQL database (engine: ``pg_engine``).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
import redis as redis_lib
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import Engine, text

from reference.databases.migrate import upgrade
from reference.databases.seed import seed_users


@pytest.fixture
def redis(redis_client: redis_lib.Redis) -> redis_lib.Redis:
    return redis_client


@pytest.fixture
def prefix(redis_prefix: str) -> str:
    return redis_prefix


def closed_port() -> int:
    """A local port nobody listens on: bound, then released (the kernel refuses connections to it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def dead_redis() -> Iterator[redis_lib.Redis]:
    client = redis_lib.Redis(
        host="127.0.0.1",
        port=closed_port(),
        socket_connect_timeout=0.2,
        socket_timeout=0.2,
        retry=Retry(NoBackoff(), 0),  # redis-py retries 3 times with backoff by default: seconds
        decode_responses=True,
    )
    yield client
    client.close()


@pytest.fixture
def users(pg_url: str, pg_engine: Engine) -> list[str]:
    """The course schema (Alembic head) on the test's own database with 3 seeded users; their ids
    (``pg_engine`` is the engine on that database)."""
    upgrade(pg_url)
    with pg_engine.begin() as conn:
        seed_users(conn, 3)
        return [str(uid) for uid in conn.scalars(text("SELECT id FROM users ORDER BY email"))]
