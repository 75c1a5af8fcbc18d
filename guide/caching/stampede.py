"""The guide's ``StampedeProtectedCache`` (캐싱 전략 › 캐싱 패턴), ported faithfully from TypeScript.

A cache-aside read guarded by the guide's Redis lock (``guide.databases.redis_service``): on a
miss, one caller takes ``lock:<prefix>:<key>`` (``SET NX PX 5000``), re-checks, fetches and stores;
every other caller sleeps 100 ms and calls ``get`` again. Defects kept on purpose (guide-defects.md
§6.3; each is shown failing in ``tests/caching/test_stampede.py`` and fixed in
``reference.caching.single_flight``):

1. **Unbounded recursion with a fixed 100 ms retry.** A waiter retries by calling itself; nothing
   bounds how long it waits, and a fetch that hangs turns every waiter into a stack of frames
   until Python's ``RecursionError`` (Node would overflow its stack the same way, or wait forever).
   Fixed retries also keep all waiters in lockstep.
2. **Missing keys cost N fetches.** ``if (data)`` caches nothing for a miss (nor for ``0``/``""``:
   ``getJSON``'s ``if (cached)`` treats them as misses too), so each waiter, when its turn at the
   lock comes, re-checks, finds nothing and fetches again: N callers, N database queries.
3. **A lock TTL shorter than the fetch.** The lease is a fixed 5 s and never extended: a slower fetch
   lets the lock expire mid-fetch, a second caller takes it and fetches too (and the first one's
   ``releaseLock`` then finds someone else's token and does nothing).

The liberties: the service is passed in (its ``key_prefix`` namespaces tests and notebooks), and the
two constants — ``lock_ttl_ms`` (5000) and ``retry_seconds`` (0.1) — are keyword arguments so a
test can show defects 1 and 3 in milliseconds instead of waiting 5 s or 100 s. Taught in
``notebooks/06_caching_stampede.ipynb``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Generic, TypeVar

from guide.databases.redis_service import RedisService

T = TypeVar("T")


class StampedeProtectedCache(Generic[T]):
    def __init__(
        self,
        service: RedisService,
        prefix: str,
        ttl: int,
        fetcher: Callable[[str], T | None],
        *,
        lock_ttl_ms: int = 5000,
        retry_seconds: float = 0.1,
    ) -> None:
        self.service = service
        self.prefix = prefix
        self.ttl = ttl
        self.fetcher = fetcher
        self.lock_ttl_ms = lock_ttl_ms
        self.retry_seconds = retry_seconds

    def get(self, key: str) -> T | None:
        cache_key = f"{self.prefix}:{key}"
        cached: T | None = self.service.get_json(cache_key)
        if cached:
            return cached

        lock_id = self.service.acquire_lock(cache_key, self.lock_ttl_ms)
        if lock_id:
            try:
                rechecked: T | None = self.service.get_json(cache_key)
                if rechecked:
                    return rechecked
                data = self.fetcher(key)
                if data:
                    self.service.set_json(cache_key, data, self.ttl)
                return data
            finally:
                self.service.release_lock(cache_key, lock_id)
        else:
            time.sleep(self.retry_seconds)  # await new Promise(r => setTimeout(r, 100))
            return self.get(key)  # return this.get(key): one more frame per retry, forever
