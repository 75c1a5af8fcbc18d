"""The guide's CacheAsideStrategy (guide-defects.md §6.2), each defect shown on the port.

The same scenarios pass on the reference in ``test_aside.py``.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import redis

from guide.caching.cache_aside import CacheAsideStrategy
from guide.databases.redis_service import RedisService

# The port keeps the guide's SETEX, which redis-py marks deprecated.
pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated setex")


def counted(value: object) -> tuple[Callable[[str], object], list[str]]:
    calls: list[str] = []

    def fetch(key: str) -> object:
        calls.append(key)
        return value

    return fetch, calls


def test_guide_caches_a_truthy_value(redis: redis.Redis, prefix: str) -> None:
    fetch, calls = counted({"name": "Ada"})
    cache = CacheAsideStrategy(RedisService(redis, key_prefix=prefix), "users", 60, fetch)
    assert cache.get("u1") == cache.get("u1") == {"name": "Ada"}
    assert len(calls) == 1  # the happy path works: the defects are all at the edges


@pytest.mark.parametrize("falsy", [0, "", [], False], ids=repr)
def test_guide_fetches_a_falsy_value_on_every_get(
    redis: redis.Redis, prefix: str, falsy: object
) -> None:
    fetch, calls = counted(falsy)
    cache = CacheAsideStrategy(RedisService(redis, key_prefix=prefix), "unread", 60, fetch)
    assert cache.get("u1") == falsy
    assert cache.get("u1") == falsy
    assert len(calls) == 2  # the defect: 0 is "not cached", so the database answers every time
    assert redis.exists(f"{prefix}unread:u1") == 0


def test_guide_never_caches_a_missing_row_penetration(redis: redis.Redis, prefix: str) -> None:
    fetch, calls = counted(None)
    cache = CacheAsideStrategy(RedisService(redis, key_prefix=prefix), "users", 60, fetch)
    for _ in range(100):
        assert cache.get("no-such-id") is None
    assert len(calls) == 100  # every request for a missing id reaches the database


def test_guide_raises_when_redis_is_down(dead_redis: redis.Redis) -> None:
    fetch, calls = counted({"name": "Ada"})
    cache = CacheAsideStrategy(RedisService(dead_redis), "users", 60, fetch)
    with pytest.raises(redis.exceptions.ConnectionError):
        cache.get("u1")
    assert calls == []  # the database, which was up, was never asked


def test_guide_gives_every_entry_the_same_ttl(redis: redis.Redis, prefix: str) -> None:
    fetch, _ = counted({"n": 1})
    cache = CacheAsideStrategy(RedisService(redis, key_prefix=prefix), "burst", 60, fetch)
    for i in range(20):
        cache.get(str(i))
    ttls = {redis.ttl(f"{prefix}burst:{i}") for i in range(20)}
    assert ttls <= {59, 60}  # no jitter: a burst of fills is a burst of expiries 60 s later
