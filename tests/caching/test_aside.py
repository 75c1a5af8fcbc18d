"""reference.caching.aside: the guide's cache-aside defects (guide-defects.md §6.2) fixed, against
the course's Redis and PostgreSQL (the port's failures are in ``test_aside_guide.py``)."""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import redis
from sqlalchemy import Engine

from reference.caching.aside import (
    MAX_KEY_LENGTH,
    CacheAside,
    cache_client,
    jittered_ms,
    user_fetcher,
)
from reference.caching.write_patterns import update_user


def counted(value: object) -> tuple[Callable[[str], Any], list[str]]:
    calls: list[str] = []

    def fetch(key: str) -> object:
        calls.append(key)
        return value

    return fetch, calls


@pytest.mark.parametrize("falsy", [0, "", [], False, {}], ids=repr)
def test_a_falsy_value_is_fetched_once_for_two_gets(
    redis: redis.Redis, prefix: str, falsy: object
) -> None:
    fetch, calls = counted(falsy)
    cache = CacheAside(redis, f"{prefix}unread", fetch)
    assert cache.get("u1") == falsy
    got = cache.get("u1")
    assert got == falsy
    assert type(got) is type(falsy)
    assert len(calls) == 1
    assert json.loads(redis.get(f"{prefix}unread:u1") or "") == {"v": falsy}
    assert (cache.stats.hits, cache.stats.misses) == (1, 1)


def test_100_gets_of_a_missing_id_cost_one_fetch(redis: redis.Redis, prefix: str) -> None:
    fetch, calls = counted(None)
    cache = CacheAside(redis, f"{prefix}users", fetch, ttl=300, negative_ttl=5, jitter=0)
    for _ in range(100):
        assert cache.get("no-such-id") is None
    assert len(calls) == 1
    assert cache.stats.negative_hits == 99
    # the negative entry is short-lived: a row created later shows up within negative_ttl
    assert 0 < redis.pttl(f"{prefix}users:no-such-id") <= 5000


def test_redis_unreachable_the_database_answers_and_the_failure_is_counted(
    dead_redis: redis.Redis,
) -> None:
    fetch, calls = counted({"name": "Ada"})
    cache = CacheAside(dead_redis, "users", fetch)
    assert cache.get("u1") == {"name": "Ada"}
    assert cache.get("u1") == {"name": "Ada"}
    assert len(calls) == 2
    assert cache.stats.redis_errors == 4  # a GET and a SET per read, none raised
    cache.invalidate("u1")
    assert cache.put("u1", {"name": "Bob"}) is False
    assert cache.stats.redis_errors == 6


def test_redis_that_accepts_but_never_answers_times_out_and_the_database_answers() -> None:
    # A listening socket nobody reads: the TCP handshake succeeds (the backlog), replies never come.
    import socket

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        client = cache_client(f"redis://127.0.0.1:{port}/0", timeout_seconds=0.2)
        fetch, calls = counted({"name": "Ada"})
        cache = CacheAside(client, "users", fetch)
        assert cache.get("u1") == {"name": "Ada"}
        assert len(calls) == 1
        assert cache.stats.redis_errors == 2
        client.close()


def test_jitter_spreads_the_expiries_of_a_burst(redis: redis.Redis, prefix: str) -> None:
    fetch, _ = counted({"n": 1})
    steps = itertools.cycle([i / 20 for i in range(20)])  # a deterministic "random" source
    cache = CacheAside(redis, f"{prefix}burst", fetch, ttl=100, jitter=0.2, rng=lambda: next(steps))
    for i in range(20):
        cache.get(str(i))
    ttls = [redis.pttl(f"{prefix}burst:{i}") for i in range(20)]
    assert all(80_000 - 1000 < t <= 100_000 for t in ttls)
    assert max(ttls) - min(ttls) > 15_000  # spread over ~20 s instead of one instant
    assert len({t // 1000 for t in ttls}) >= 15


def test_jittered_ms_bounds() -> None:
    assert jittered_ms(10, 0.0, lambda: 0.9) == 10_000
    assert jittered_ms(10, 0.5, lambda: 1.0) == 5_000
    assert jittered_ms(0.0001, 0.5, lambda: 1.0) == 1


@pytest.mark.parametrize(
    "key",
    ["", "a\x00b", "line\nbreak", "x" * (MAX_KEY_LENGTH + 1)],
    ids=["empty", "nul", "newline", "oversize"],
)
def test_hostile_keys_are_refused_before_redis_or_the_database(
    redis: redis.Redis, prefix: str, key: str
) -> None:
    fetch, calls = counted(1)
    cache = CacheAside(redis, f"{prefix}k", fetch)
    with pytest.raises(ValueError, match="cache key"):
        cache.get(key)
    assert calls == []
    assert list(redis.scan_iter(match=f"{prefix}*")) == []


def test_a_non_str_key_is_a_type_error(redis: redis.Redis, prefix: str) -> None:
    cache = CacheAside(redis, f"{prefix}k", counted(1)[0])
    with pytest.raises(TypeError, match="must be a str"):
        cache.get(42)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs",
    [{"ttl": 0}, {"negative_ttl": -1}, {"ttl": float("inf")}, {"jitter": 1.0}, {"jitter": -0.1}],
    ids=repr,
)
def test_bad_settings_are_refused(redis: redis.Redis, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"ttl|jitter"):
        CacheAside(redis, "k", counted(1)[0], **kwargs)


def test_users_from_postgres_cached_and_missing_ids_negative(
    redis: redis.Redis, prefix: str, users: list[str], pg_engine: Engine
) -> None:
    fetch = user_fetcher(pg_engine)
    cache = CacheAside(redis, f"{prefix}users", fetch)
    first = cache.get(users[0])
    assert first is not None
    assert first["email"] == "user1@example.com"
    assert "password_hash" not in first
    assert cache.get(users[0]) == first
    assert cache.stats.fetches == 1
    missing = str(uuid.uuid4())
    for _ in range(100):
        assert cache.get(missing) is None
    assert cache.stats.fetches == 2
    with pytest.raises(ValueError, match="not a user id"):
        cache.get("'; DROP TABLE users; --")


def test_write_through_commits_even_when_the_cache_is_down(
    dead_redis: redis.Redis, redis: redis.Redis, prefix: str, users: list[str], pg_engine: Engine
) -> None:
    fetch = user_fetcher(pg_engine)
    down = CacheAside(dead_redis, "users", fetch)
    row = update_user(pg_engine, down, users[0], name="Grace")
    assert row is not None
    assert row["name"] == "Grace"
    assert down.stats.redis_errors == 1
    assert fetch(users[0]) == row  # the database kept the write
    up = CacheAside(redis, f"{prefix}users", fetch)
    assert update_user(pg_engine, up, users[1], name="Linus") is not None
    assert up.get(users[1])["name"] == "Linus"  # type: ignore[index]
    assert up.stats.fetches == 0  # written through: the first read is a hit
    assert update_user(pg_engine, up, str(uuid.uuid4()), name="x") is None
