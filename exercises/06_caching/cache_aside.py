"""Taught in notebooks/06_caching_aside.ipynb §2.

Exercise 06.1: cache-aside that neither lies nor hammers the database.

The guide's ``CacheAsideStrategy.get`` tests ``if (cached)`` and ``if (data)``: a cached ``0`` is a
miss, a missing row is never cached (every request for it reaches the database), every entry gets
the same TTL, and a Redis outage raises out of a read the database could have answered.

Write ``cached_get(cache, key)`` (``CacheAside.get`` calls it). The Redis key of ``key`` is
``cache.redis_key(key)`` (it raises ``ValueError`` for hostile keys: call it first). Entries are
JSON envelopes:

* ``{"v": value}`` — a value the fetcher returned, stored for ``cache.ttl`` seconds; ``0``, ``""``,
  ``[]``, ``{}`` and ``False`` are values like any other (a hit, never re-fetched);
* ``{"absent": true}`` — the fetcher returned ``None`` (no such row), stored for
  ``cache.negative_ttl`` seconds only, so the row shows up soon after it is created; a hit on it
  returns ``None`` without fetching.

Every TTL is jittered: set the key with ``px=jittered_ms(ttl, cache.jitter, cache.rng)``, so entries
filled together do not all expire together. Redis is an optimisation: when a Redis command raises
one of ``REDIS_OUTAGES`` (refused connection, socket timeout), add 1 to ``cache.stats.redis_errors``
and carry on — a failed GET is a miss, a failed SET is skipped — and the fetcher's answer is still
returned. Count ``cache.stats.fetches`` (each call of the fetcher).
"""

from __future__ import annotations

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


def cached_get(cache: CacheAside, key: str) -> Any:
    """``cache.get(key)``: the cached value, else ``cache.fetcher(key)``, stored in Redis."""
    # TODO: GET the envelope (an outage counts and is a miss); a hit returns its value, or None
    # for {"absent": true}; a miss fetches, then SETs {"v": …} or {"absent": true} with a
    # jittered TTL (ttl or negative_ttl), an outage counted and skipped.
    raise NotImplementedError
