"""Grading for exercise 06.1: cache-aside (exercises/06_caching/cache_aside.py). Graded through
what Redis holds afterwards and how often the fetcher ran — never by reading your code."""

from __future__ import annotations

import json
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
import redis
import redis as redis_lib


def counted(value: object) -> tuple[Callable[[str], Any], list[str]]:
    calls: list[str] = []

    def fetch(key: str) -> object:
        calls.append(key)
        return value

    return fetch, calls


def same(got: object, expected: object) -> bool:
    """``got == expected`` for the type ``expected`` has: an object claiming equality with
    everything is not the value."""
    return type(got) is type(expected) and got == expected


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
    assert same(first.get("u1"), {"name": "Ada"})
    fetch, calls = counted({"name": "WRONG"})
    second = exercise.CacheAside(redis, f"{prefix}users", fetch)
    assert same(second.get("u1"), {"name": "Ada"})
    assert calls == []


def test_redis_is_the_only_copy(exercise: ModuleType, redis: redis.Redis, prefix: str) -> None:
    """What Redis holds is the answer: after another app server rewrites the entry, get returns
    the new value; after it deletes the entry (an invalidation, or the TTL ran out), get asks the
    fetcher again — also for a cached "absent". A copy kept in Python (a dict in front of Redis)
    serves what Redis no longer holds."""
    fetch, calls = counted({"name": "Ada"})
    cache = exercise.CacheAside(redis, f"{prefix}users", fetch)
    key = f"{prefix}users:u1"
    assert same(cache.get("u1"), {"name": "Ada"})
    redis.set(key, json.dumps({"v": {"name": "Grace"}}))
    assert same(cache.get("u1"), {"name": "Grace"}), "get must return what Redis holds now"
    redis.delete(key)
    assert same(cache.get("u1"), {"name": "Ada"})
    assert len(calls) == 2, "after the entry left Redis, get must fetch again"
    ghost_fetch, ghost_calls = counted(None)
    ghosts = exercise.CacheAside(redis, f"{prefix}ghosts", ghost_fetch)
    assert ghosts.get("g") is None
    redis.delete(f"{prefix}ghosts:g")
    assert ghosts.get("g") is None
    assert len(ghost_calls) == 2, "after the negative entry left Redis, get must fetch again"


def test_a_redis_error_that_is_not_an_outage_still_raises(
    exercise: ModuleType, redis: redis.Redis, prefix: str
) -> None:
    """Only REDIS_OUTAGES (Redis unreachable or timing out) fall back to the fetcher. A WRONGTYPE
    error — the key holds a hash, a bug in someone's code — must raise redis.ResponseError and
    leave the key alone: `except Exception` hides the bug and overwrites another feature's data."""
    key = f"{prefix}users:u1"
    redis.hset(key, "owner", "another feature")
    fetch, calls = counted({"name": "Ada"})
    cache = exercise.CacheAside(redis, f"{prefix}users", fetch)
    with pytest.raises(redis_lib.ResponseError):
        cache.get("u1")
    assert calls == [], "a WRONGTYPE error is not a miss: the fetcher must not run"
    assert redis.type(key) == "hash"
    assert cache.stats.redis_errors == 0


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
    0.0 keeps ~100 s, one giving 1.0 halves it to ~50 s — negative entries too (negative_ttl=10 s
    → ~5 s). One TTL for all makes a burst of fills a burst of expiries."""
    draws = iter([0.0, 1.0, 1.0])
    cache = exercise.CacheAside(
        redis,
        f"{prefix}burst",
        lambda key: None if key == "c" else 1,
        ttl=100,
        negative_ttl=10,
        jitter=0.5,
        rng=lambda: next(draws),
    )
    cache.get("a")
    cache.get("b")
    cache.get("c")
    assert 99_000 < redis.pttl(f"{prefix}burst:a") <= 100_000
    assert 49_000 < redis.pttl(f"{prefix}burst:b") <= 50_000
    assert 4_000 < redis.pttl(f"{prefix}burst:c") <= 5_000, "negative entries are jittered too"


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
