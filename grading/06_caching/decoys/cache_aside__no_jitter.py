"""Decoy for 06.1: one TTL for every entry (no jitter): a burst of fills expires in one instant. Caught by test_ttls_are_jittered_with_the_given_random_source."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

import redis

from reference.caching.aside import REDIS_OUTAGES, CacheStats, check_key


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
        payload, seconds = (
            ({"absent": True}, self.negative_ttl) if value is None else ({"v": value}, self.ttl)
        )
        try:
            self.client.set(cache_key, json.dumps(payload), px=int(seconds * 1000))
        except REDIS_OUTAGES:
            self.stats.redis_errors += 1
        return value
