"""Decoy for 06.1: misses cached, but for the full ttl — a row created later stays invisible for an hour. Caught by test_a_missing_row_is_cached_as_a_short_negative_entry."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

import redis

from reference.caching.aside import REDIS_OUTAGES, CacheStats, check_key, jittered_ms


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

    def redis_key(self, key: str) -> str:
        return f"{self.namespace}:{check_key(key)}"

    def get(self, key: str) -> Any:
        cache_key = self.redis_key(key)
        try:
            raw = self.client.get(cache_key)
        except REDIS_OUTAGES:
            self.stats.redis_errors += 1
            raw = None
        if raw is not None:
            return json.loads(raw).get("v")
        self.stats.fetches += 1
        value = self.fetcher(key)
        payload = {"absent": True} if value is None else {"v": value}
        try:
            px = jittered_ms(self.ttl, self.jitter, self.rng)
            self.client.set(cache_key, json.dumps(payload), px=px)
        except REDIS_OUTAGES:
            self.stats.redis_errors += 1
        return value
