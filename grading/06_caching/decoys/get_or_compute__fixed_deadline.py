"""Decoy for 06.3: the reference's single flight with the caller's deadline ignored — every waiter gives up after a hard-coded second. Caught by test_waiters_give_up_at_their_own_deadline (the deadline=60 waiter gives up)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import redis

from reference.caching.single_flight import SingleFlightCache

TTL_SECONDS = 300
NEGATIVE_TTL_SECONDS = 30
LOCK_TTL_MS = 2000


def get_or_compute(client: redis.Redis, key: str, fetch: Callable[[], Any], deadline: float) -> Any:
    cache = SingleFlightCache(
        client,
        ttl_seconds=TTL_SECONDS,
        negative_ttl_seconds=NEGATIVE_TTL_SECONDS,
        lock_ttl_ms=LOCK_TTL_MS,
    )
    return cache.get_or_compute(key, fetch, deadline=1.0)  # the caller's deadline, ignored
