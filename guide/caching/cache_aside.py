"""The guide's ``CacheAsideStrategy`` (캐싱 전략 › 캐싱 패턴), ported from TypeScript to Python.

Built on the guide's ``redisService`` port (:mod:`guide.databases.redis_service`), as the guide
does. Defects kept on purpose (guide-defects.md §6.1/§6.2; each is shown failing in
``tests/caching/test_aside_guide.py`` and ``notebooks/06_caching_aside.ipynb`` and fixed in
:mod:`reference.caching.aside` and :mod:`reference.caching.invalidation`):

- 6.2 ``if (cached) return cached``: every falsy value (``0``, ``""``, ``[]``, ``False``) counts
  as a miss, so a user with 0 unread messages is fetched from the database on every read.
- 6.2 ``if (data) await setJSON(...)``: ``null`` (and every falsy value) is never cached, so a
  missing id reaches the database on every request — cache penetration.
- 6.2 A Redis outage raises out of ``get`` instead of falling back to the database.
- 6.1/6.2 Every entry gets the same TTL, no jitter: entries written together expire together.
- 6.1 No invalidation at all: the strategy table says nothing of the stale-set race
  (:mod:`reference.caching.invalidation` shows it) or what write-behind loses
  (:mod:`reference.caching.write_patterns`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from guide.databases.redis_service import RedisService

T = TypeVar("T")


class CacheAsideStrategy(Generic[T]):
    def __init__(
        self,
        redis_service: RedisService,
        prefix: str,
        ttl: int,
        fetcher: Callable[[str], T | None],
    ) -> None:
        # The guide's module-level `redisService` singleton is passed in, so tests can point it at
        # the course's Redis.
        self.redis_service = redis_service
        self.prefix = prefix
        self.ttl = ttl
        self.fetcher = fetcher

    def get(self, key: str) -> T | None:
        cached: T | None = self.redis_service.get_json(f"{self.prefix}:{key}")
        if cached:  # if (cached) return cached;  — 0, "", [] and False are misses
            return cached
        data = self.fetcher(key)
        if data:  # if (data) await setJSON(...)  — null is never cached
            self.redis_service.set_json(f"{self.prefix}:{key}", data, self.ttl)
        return data
