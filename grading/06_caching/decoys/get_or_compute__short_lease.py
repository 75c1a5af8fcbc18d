"""Decoy for 06.3: lock, negative caching and a deadline, but the lease is LOCK_TTL_MS and never extended — a fetch longer than it lets a second fetcher in. Caught by test_lease_outlives_a_slow_fetch."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import redis

from reference.databases.redis import RedisLock

TTL_SECONDS = 300
NEGATIVE_TTL_SECONDS = 30
LOCK_TTL_MS = 2000


class ComputeTimeout(TimeoutError):
    """The value did not appear before this caller's deadline."""


def get_or_compute(client: redis.Redis, key: str, fetch: Callable[[], Any], deadline: float) -> Any:
    if not 0 < deadline < float("inf"):
        raise ValueError("deadline must be positive and finite")
    give_up = time.monotonic() + deadline
    lock = RedisLock(client, key, LOCK_TTL_MS)
    while True:
        raw = client.get(key)
        if raw is not None:
            return json.loads(raw)
        lease = lock.try_acquire()
        if lease is not None:
            try:
                raw = client.get(key)
                if raw is not None:
                    return json.loads(raw)
                value = fetch()
                ttl = NEGATIVE_TTL_SECONDS if value is None else TTL_SECONDS
                client.set(key, json.dumps(value), ex=ttl)
                return value
            finally:
                lock.release(lease)
        if time.monotonic() >= give_up:
            raise ComputeTimeout(key)
        time.sleep(0.02)
