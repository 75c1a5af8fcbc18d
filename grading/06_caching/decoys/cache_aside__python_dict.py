"""Decoy for 06.1: a per-process dict instead of Redis (hits, negatives and fallback all 'work'). Caught by test_values_live_in_redis_shared_by_every_app_server and test_a_falsy_value_is_a_hit's Redis check."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import redis

from reference.caching.aside import CacheStats, check_key


class CacheAside:
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
        self.local: dict[str, Any] = {}

    def redis_key(self, key: str) -> str:
        return f"{self.namespace}:{check_key(key)}"

    def get(self, key: str) -> Any:
        cache_key = self.redis_key(key)
        if cache_key in self.local:
            return self.local[cache_key]
        self.stats.fetches += 1
        value = self.fetcher(key)
        self.local[cache_key] = value
        return value
