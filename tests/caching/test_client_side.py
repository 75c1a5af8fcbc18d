"""Client-side caching with Redis tracking: another client's write invalidates the local copy."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis as redis_lib

from reference.caching.client_side import ClientSideCache
from reference.caching.scratch_redis import ScratchRedis
from reference.config import Settings


@pytest.fixture
def cache(settings: Settings) -> Iterator[ClientSideCache]:
    with ClientSideCache(settings.redis_url) as c:
        yield c


def test_second_read_is_local(cache: ClientSideCache, redis: redis_lib.Redis, prefix: str) -> None:
    redis.set(prefix + "user:1", "Ada")
    assert cache.get(prefix + "user:1") == "Ada"
    assert cache.get(prefix + "user:1") == "Ada"
    assert (cache.stats.misses, cache.stats.hits) == (1, 1)


def test_another_clients_write_invalidates(
    cache: ClientSideCache, redis: redis_lib.Redis, prefix: str
) -> None:
    key = prefix + "user:1"
    redis.set(key, "Ada")
    assert cache.get(key) == "Ada"
    assert cache.cached(key)
    redis.set(key, "Grace")  # another connection writes
    assert cache.wait_for_invalidation(key, timeout=5)
    assert cache.get(key) == "Grace"
    assert cache.stats.invalidations >= 1


def test_missing_key_is_cached_and_invalidated_when_created(
    cache: ClientSideCache, redis: redis_lib.Redis, prefix: str
) -> None:
    key = prefix + "nobody"
    assert cache.get(key) is None
    assert cache.get(key) is None
    assert cache.stats.hits == 1
    redis.set(key, "now here")
    assert cache.wait_for_invalidation(key, timeout=5)
    assert cache.get(key) == "now here"


def test_delete_and_expiry_invalidate(
    cache: ClientSideCache, redis: redis_lib.Redis, prefix: str
) -> None:
    redis.set(prefix + "a", "1")
    redis.set(prefix + "b", "2", px=50)
    assert cache.get(prefix + "a") == "1"
    assert cache.get(prefix + "b") == "2"
    redis.delete(prefix + "a")
    assert cache.wait_for_invalidation(prefix + "a", timeout=5)
    # An expiring key is invalidated when Redis expires it (lazily or by its active expiry cycle).
    assert cache.wait_for_invalidation(prefix + "b", timeout=5)


def test_local_dict_is_bounded(settings: Settings, redis: redis_lib.Redis, prefix: str) -> None:
    with ClientSideCache(settings.redis_url, max_entries=2) as small:
        for k in "abc":
            small.get(prefix + k)
        assert not small.cached(prefix + "a")
        assert small.cached(prefix + "c")


def test_bad_size_is_a_value_error(settings: Settings) -> None:
    with pytest.raises(ValueError, match="max_entries"):
        ClientSideCache(settings.redis_url, max_entries=0)


def test_redis_py_builtin_cache_needs_redis_7_4(settings: Settings, redis: redis_lib.Redis) -> None:
    """Why the module wires tracking itself: redis-py's CacheConfig refuses the course's Redis 7.0."""
    from redis.cache import CacheConfig

    version = tuple(int(p) for p in str(redis.info("server")["redis_version"]).split(".")[:2])
    if version >= (7, 4):
        pytest.skip("this Redis is new enough for redis-py's built-in client-side cache")
    builtin = redis_lib.Redis.from_url(settings.redis_url, protocol=3, cache_config=CacheConfig())
    try:
        with pytest.raises(redis_lib.ConnectionError, match=r"Redis 7\.4"):
            builtin.get("anything")
    finally:
        builtin.close()


def test_flush_drops_the_local_copy() -> None:
    """FLUSHALL (on a throwaway server, never the shared one) invalidates everything held locally,
    and caching goes on. (With a RESP3 data connection Redis 7.0 sends the flush as a RESP3 null the
    RESP2 listener cannot parse, and the cache would have to give up.)"""
    with ScratchRedis() as server, server.client() as client:
        client.set("a", "1")
        with ClientSideCache(server.url) as cache:
            assert cache.get("a") == "1"
            client.flushall()
            assert cache.wait_for_invalidation("a", timeout=5)
            hits = cache.stats.hits
            assert cache.get("a") is None
            assert cache.get("a") is None
            assert cache.stats.hits == hits + 1  # still caching: the flush message was understood


def test_lost_listener_drops_the_local_copy() -> None:
    """The server goes away: invalidations may be missed from now on, so nothing local is kept."""
    with ScratchRedis() as server, server.client() as client:
        client.set("a", "1")
        with ClientSideCache(server.url) as cache:
            assert cache.get("a") == "1"
            assert cache.cached("a")
            server.stop()
            assert cache.wait_for_invalidation("a", timeout=10)
            assert not cache.cached("a")
