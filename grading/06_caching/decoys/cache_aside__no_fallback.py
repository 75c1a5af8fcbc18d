"""Decoy for 06.1: every Redis call unguarded — an outage raises out of get, as in the guide. Caught by test_redis_down_the_fetcher_answers_and_the_failure_is_counted."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

import redis

from reference.caching.aside import CacheStats, check_key, jittered_ms


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
        raw = self.client.get(cache_key)
        if raw is not None:
            return json.loads(raw).get("v")
        self.stats.fetches += 1
        value = self.fetcher(key)
        payload, seconds = (
            ({"absent": True}, self.negative_ttl) if value is None else ({"v": value}, self.ttl)
        )
        self.client.set(
            cache_key, json.dumps(payload), px=jittered_ms(seconds, self.jitter, self.rng)
        )
        return value
