"""Decoy for 06.1: a module-level dict consulted before Redis (Redis as the second level) — serves entries Redis no longer holds. Caught by test_redis_is_the_only_copy."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

import redis

from reference.caching.aside import REDIS_OUTAGES, CacheStats, check_key, jittered_ms

__all__ = ["REDIS_OUTAGES", "CacheAside", "CacheStats", "jittered_ms"]


class CacheAside:
    """``get(key)``: the cached value, else ``fetcher(key)`` remembered in Redis."""

    def __init__(
        self,
        client: redis.Redis,
        namespace: str,
        fetcher: Callable[[str], Any],
        *,
        ttl: float = 300.0,
        negative_ttl: float = 30.0,
        jitter: float = 0.1,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.client = client
        self.namespace = namespace
        self.fetcher = fetcher
        self.ttl = ttl
        self.negative_ttl = negative_ttl
        self.jitter = jitter
        self.rng = rng
        self.stats = CacheStats()

    def redis_key(self, key: str) -> str:
        return f"{self.namespace}:{check_key(key)}"

    def get(self, key: str) -> Any:
        """The value for ``key``: from Redis if there, else from the fetcher (then stored)."""
        return cached_get(self, key)


_LOCAL: dict[str, Any] = {}


def cached_get(cache: CacheAside, key: str) -> Any:
    ck = cache.redis_key(key)
    if ck in _LOCAL:
        return _LOCAL[ck]
    _LOCAL[ck] = value = _inner(cache, key)
    return value


def _inner(cache: CacheAside, key: str) -> Any:
    """``cache.get(key)``: the cached value, else ``cache.fetcher(key)``, stored in Redis."""
    cache_key = cache.redis_key(key)
    try:
        raw = cache.client.get(cache_key)
    except REDIS_OUTAGES:
        cache.stats.redis_errors += 1
        raw = None
    if raw is not None:
        envelope = json.loads(raw)
        if "v" in envelope:
            cache.stats.hits += 1
            return envelope["v"]
        cache.stats.negative_hits += 1
        return None
    cache.stats.misses += 1
    cache.stats.fetches += 1
    value = cache.fetcher(key)
    if value is None:
        payload, seconds = {"absent": True}, cache.negative_ttl
    else:
        payload, seconds = {"v": value}, cache.ttl
    try:
        cache.client.set(
            cache_key, json.dumps(payload), px=jittered_ms(seconds, cache.jitter, cache.rng)
        )
    except REDIS_OUTAGES:
        cache.stats.redis_errors += 1
    return value
