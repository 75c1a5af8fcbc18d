"""Fixtures chapter 06's unit tests and its grading share (``tests/caching/conftest.py`` and
``grading/06_caching/conftest.py`` import them; grading runs in a sandbox that carries ``course/`` but
not ``tests/``, so this is their one common place).

- ``redis``: a client on the course Redis (``decode_responses=True``), the session's ``redis_client``.
- ``prefix``: a key prefix owned by one test (``t_ab12…:``); every key under it is deleted afterwards.
- ``dead_redis``: a client pointed at a closed local port, short timeouts and no retries
  (:func:`reference.caching.aside.unreachable_redis`) — "Redis is down" without stopping the shared
  server.
- ``users``: ids of 3 users seeded in the test's own PostgreSQL database (engine: ``pg_engine``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    import redis as redis_lib
    from sqlalchemy import Engine


@pytest.fixture
def redis(redis_client: redis_lib.Redis) -> redis_lib.Redis:
    return redis_client


@pytest.fixture
def prefix(redis_prefix: str) -> str:
    return redis_prefix


@pytest.fixture
def dead_redis() -> Iterator[redis_lib.Redis]:
    from reference.caching.aside import unreachable_redis

    client = unreachable_redis()
    yield client
    client.close()


@pytest.fixture
def users(pg_url: str, pg_engine: Engine) -> list[str]:
    """The course schema (Alembic head) on the test's own database with 3 seeded users; their ids."""
    from sqlalchemy import text

    from reference.databases.migrate import upgrade
    from reference.databases.seed import seed_users

    upgrade(pg_url)
    with pg_engine.begin() as conn:
        seed_users(conn, 3)
        return [str(uid) for uid in conn.scalars(text("SELECT id FROM users ORDER BY email"))]
