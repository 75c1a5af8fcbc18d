"""Decoy for 06.3: lock with renewal and a deadline, but None is not cached — for a missing row each waiter takes the lock in turn and fetches again. Caught by test_missing_key_costs_one_fetch."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import redis

from reference.caching.single_flight import SingleFlightCache

TTL_SECONDS = 300
NEGATIVE_TTL_SECONDS = 30
LOCK_TTL_MS = 2000


class _PositiveOnly(SingleFlightCache):
    def _cached(self, key: str) -> tuple[bool, Any]:
        found, value = super()._cached(key)
        return (found and value is not None), value


def get_or_compute(client: redis.Redis, key: str, fetch: Callable[[], Any], deadline: float) -> Any:
    cache = _PositiveOnly(
        client,
        ttl_seconds=TTL_SECONDS,
        negative_ttl_seconds=NEGATIVE_TTL_SECONDS,
        lock_ttl_ms=LOCK_TTL_MS,
    )
    return cache.get_or_compute(key, fetch, deadline)
