"""Grading for exercise 06.1: cache-aside (exercises/06_caching/cache_aside.py). Graded through
what Redis holds afterwards and how often the fetcher ran — never by reading your code."""

from __future__ import annotations

import json
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
import redis


def counted(value: object) -> tuple[Callable[[str], Any], list[str]]:
    calls: list[str] = []

    def fetch(key: str) -> object:
        calls.append(key)
        return value

    return fetch, calls


@pytest.mark.parametrize("falsy", [0, "", [], False], ids=repr)
def test_a_falsy_value_is_a_hit(
    exercise: ModuleType, redis: redis.Redis, prefix: str, falsy: object
) -> None:
    """A fetcher returning 0 (or "", [], False) runs once for two gets, and Redis holds
    {"v": 0} under "<namespace>:<key>". `if not cached` treats a cached 0 as a miss."""
    fetch, calls = counted(falsy)
    cache = exercise.CacheAside(redis, f"{prefix}unread", fetch)
    assert cache.get("u1") == falsy
    second = cache.get("u1")
    assert second == falsy
    assert type(second) is type(falsy)
    assert len(calls) == 1, f"the fetcher ran {len(calls)} times for 2 gets of a cached {falsy!r}"
    assert json.loads(redis.get(f"{prefix}unread:u1") or "null") == {"v": falsy}
    assert cache.stats.fetches == 1


def test_a_missing_row_is_cached_as_a_short_negative_entry(
    exercise: ModuleType, redis: redis.Redis, prefix: str
) -> None:
    """100 gets of an id the fetcher does not know (it returns None) cost ONE fetch: the miss is
    cached as {"absent": true} — for negative_ttl seconds, not the full ttl, so the row shows up
    soon after it is created."""
    fetch, calls = counted(None)
    cache = exercise.CacheAside(
        redis, f"{prefix}users", fetch, ttl=3600, negative_ttl=5, jitter=0.0
    )
    for _ in range(100):
        assert cache.get("ghost") is None
    assert len(calls) == 1, f"100 gets of a missing id ran the fetcher {len(calls)} times"
    key = f"{prefix}users:ghost"
    assert json.loads(redis.get(key) or "null") == {"absent": True}
    assert 0 < redis.pttl(key) <= 5000, "the negative entry must expire within negative_ttl"


def test_values_live_in_redis_shared_by_every_app_server(
    exercise: ModuleType, redis: redis.Redis, prefix: str
) -> None:
    """A second CacheAside (another app server: same Redis, same namespace) gets the value the
    first one cached without calling its own fetcher — a cache in a Python dict is per process."""
    first = exercise.CacheAside(redis, f"{prefix}users", counted({"name": "Ada"})[0])
    assert first.get("u1") == {"name": "Ada"}
    fetch, calls = counted({"name": "WRONG"})
    second = exercise.CacheAside(redis, f"{prefix}users", fetch)
    assert second.get("u1") == {"name": "Ada"}
    assert calls == []


def test_redis_down_the_fetcher_answers_and_the_failure_is_counted(
    exercise: ModuleType, dead_redis: redis.Redis
) -> None:
    """With Redis unreachable (a closed port), get still returns the fetcher's value — no exception
    — and stats.redis_errors counts the failed GET and SET (2 per read)."""
    fetch, calls = counted({"name": "Ada"})
    cache = exercise.CacheAside(dead_redis, "users", fetch)
    assert cache.get("u1") == {"name": "Ada"}
    assert cache.get("u2") == {"name": "Ada"}
    assert len(calls) == 2
    assert cache.stats.redis_errors == 4


def test_ttls_are_jittered_with_the_given_random_source(
    exercise: ModuleType, redis: redis.Redis, prefix: str
) -> None:
    """Each entry's TTL is jittered_ms(ttl, jitter, rng): with ttl=100 s, jitter=0.5 an rng giving
    0.0 keeps ~100 s, one giving 1.0 halves it to ~50 s. One TTL for all makes a burst of fills a
    burst of expiries."""
    draws = iter([0.0, 1.0])
    cache = exercise.CacheAside(
        redis, f"{prefix}burst", counted(1)[0], ttl=100, jitter=0.5, rng=lambda: next(draws)
    )
    cache.get("a")
    cache.get("b")
    assert 99_000 < redis.pttl(f"{prefix}burst:a") <= 100_000
    assert 49_000 < redis.pttl(f"{prefix}burst:b") <= 50_000


@pytest.mark.parametrize("key", ["a\x00b", "x" * 201], ids=["nul", "oversize"])
def test_hostile_keys_are_refused_before_any_fetch(
    exercise: ModuleType, redis: redis.Redis, prefix: str, key: str
) -> None:
    """A key with a NUL byte or over 200 characters raises ValueError (self.redis_key does it) and
    neither Redis nor the fetcher sees it."""
    fetch, calls = counted(1)
    cache = exercise.CacheAside(redis, f"{prefix}k", fetch)
    with pytest.raises(ValueError, match="cache key"):
        cache.get(key)
    assert calls == []
    assert list(redis.scan_iter(match=f"{prefix}*")) == []
