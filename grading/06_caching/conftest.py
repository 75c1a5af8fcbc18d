"""Fixtures the chapter 06 grading tests share (grading may not import tests/):

- ``redis`` / ``prefix``: the course Redis and a key prefix owned by one test (cleaned afterwards);
- ``dead_redis``: a client on a closed local port — "Redis is down" without touching the real one;
- ``users``: ids of 3 users seeded in the test's own PostgreSQL database (engine: ``pg_engine``).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis as redis_lib
from sqlalchemy import Engine, text

from reference.caching.aside import unreachable_redis
from reference.databases.migrate import upgrade
from reference.databases.seed import seed_users


@pytest.fixture
def redis(redis_client: redis_lib.Redis) -> redis_lib.Redis:
    return redis_client


@pytest.fixture
def prefix(redis_prefix: str) -> str:
    return redis_prefix


@pytest.fixture
def dead_redis() -> Iterator[redis_lib.Redis]:
    client = unreachable_redis()
    yield client
    client.close()


@pytest.fixture
def users(pg_url: str, pg_engine: Engine) -> list[str]:
    upgrade(pg_url)
    with pg_engine.begin() as conn:
        seed_users(conn, 3)
        return [str(uid) for uid in conn.scalars(text("SELECT id FROM users ORDER BY email"))]
