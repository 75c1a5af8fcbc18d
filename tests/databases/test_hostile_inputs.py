"""Hostile values for every ``reference.databases`` function that binds a caller's input.

An integer past PostgreSQL's ``bigint``, a NUL in a string, a TTL or window Redis cannot store: each
must be a ``ValueError`` raised before the query (an API maps it to 422), never psycopg's
``DataError`` or Redis's ``ResponseError`` from inside it, and never a half-done write.
"""

from __future__ import annotations

import pymongo
import pytest
import redis
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from reference.databases import migrate, pagination, queries
from reference.databases.loading import order_totals_eager, order_totals_lazy
from reference.databases.mongo.search import search_users
from reference.databases.redis import SlidingWindowLimiter, set_json
from reference.databases.user_service import find_many

HUGE = 10**18  # (HUGE - 1) * limit is past bigint's 2^63 - 1


@pytest.fixture
def engine(pg_url: str, pg_engine: Engine) -> Engine:
    migrate.upgrade(pg_url)
    return pg_engine


def test_offset_page_past_bigint_is_a_value_error(engine: Engine) -> None:
    with engine.connect() as conn, pytest.raises(ValueError, match="page"):
        pagination.offset_page(conn, HUGE, 100)
    with engine.connect() as conn:  # the deepest page that fits is a plain (empty) page
        assert pagination.offset_page(conn, (2**63 - 1) // 100, 100) == []


def test_find_many_page_past_bigint_is_a_value_error(engine: Engine) -> None:
    with Session(engine) as session, pytest.raises(ValueError, match="page"):
        find_many(session, page=HUGE)


@pytest.mark.parametrize("search", ["a\x00b", "\x00"])
def test_find_many_nul_in_search_is_a_value_error(engine: Engine, search: str) -> None:
    with Session(engine) as session, pytest.raises(ValueError, match="NUL"):
        find_many(session, search=search)


@pytest.mark.parametrize("limit", [2**63, HUGE, -1, 0, True, 1.5])
def test_report_query_limits_are_bounded(engine: Engine, limit: int) -> None:
    with engine.connect() as conn:
        with pytest.raises(ValueError, match="limit"):
            queries.recent_users_with_order_counts(conn, limit)
        with pytest.raises(ValueError, match="limit"):
            queries.top_spenders(conn, limit)
    with Session(engine) as session:
        with pytest.raises(ValueError, match="limit"):
            order_totals_lazy(session, limit)
        with pytest.raises(ValueError, match="limit"):
            order_totals_eager(session, limit)


@pytest.mark.parametrize("limit", [2**53, 2**53 + 1, 2**63, 10**30])
def test_limiter_refuses_a_limit_lua_cannot_count(
    redis_client: redis.Redis, redis_prefix: str, limit: int
) -> None:
    """Lua numbers are doubles: past 2^53 ``limit - count - 1`` is not exact (and came back
    negative). The bound is checked before anything reaches Redis."""
    with pytest.raises(ValueError, match="limit must be"):
        SlidingWindowLimiter(redis_client, limit=limit, window_ms=1_000, prefix=redis_prefix)


@pytest.mark.parametrize("window_ms", [2**62, 2**63, 10**30])
def test_limiter_refuses_a_window_redis_cannot_expire(
    redis_client: redis.Redis, redis_prefix: str, window_ms: int
) -> None:
    with pytest.raises(ValueError, match="window_ms must be"):
        SlidingWindowLimiter(redis_client, limit=5, window_ms=window_ms, prefix=redis_prefix)
    assert list(redis_client.scan_iter(match=redis_prefix + "*")) == []


@pytest.mark.parametrize(("limit", "window_ms"), [("5", str(2**62)), (str(2**60), "1000")])
def test_limiter_script_leaves_no_key_on_bad_arguments(
    redis_client: redis.Redis, redis_prefix: str, limit: str, window_ms: str
) -> None:
    """Called directly (another client, another language) with a window PEXPIRE cannot take, the
    script refuses before its first write: no sorted set without a TTL is left behind."""
    key = redis_prefix + "ratelimit:direct"
    script = redis_client.register_script(
        SlidingWindowLimiter(redis_client, limit=5, window_ms=1_000)._script.script
    )
    with pytest.raises(redis.ResponseError, match=r"limit|window"):
        script(keys=[key], args=[limit, window_ms, "member"])
    assert redis_client.exists(key) == 0


@pytest.mark.parametrize("ttl", [1e30, 2**63, 10**20])
def test_set_json_refuses_a_ttl_redis_cannot_store(
    redis_client: redis.Redis, redis_prefix: str, ttl: float
) -> None:
    key = redis_prefix + "value"
    with pytest.raises(ValueError, match="ttl"):
        set_json(redis_client, key, {"a": 1}, ttl=ttl)
    assert redis_client.exists(key) == 0


@pytest.mark.parametrize("limit", [1.5, "5", 10**30])
def test_mongo_search_limit_must_be_an_int_in_range(
    mongo_db: pymongo.database.Database[dict[str, object]], limit: object
) -> None:
    with pytest.raises(ValueError, match="limit"):
        search_users(mongo_db.users, "ada", limit=limit)  # type: ignore[arg-type]
