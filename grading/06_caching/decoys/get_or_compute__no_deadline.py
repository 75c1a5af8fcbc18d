"""Decoy for 06.3: a correct lock with lease renewal and negative caching, but waiters poll until the value appears, however long. Caught by test_waiters_give_up_at_their_own_deadline."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import redis

from reference.databases.redis import Lease, RedisLock

TTL_SECONDS = 300
NEGATIVE_TTL_SECONDS = 30
LOCK_TTL_MS = 2000


def _renew(lock: RedisLock, lease: Lease, done: threading.Event) -> None:
    """Extend every third of the lease until the fetch is done or the lock is lost."""
    while not done.wait(lease.ttl_ms / 3000) and lock.extend(lease):
        pass


def get_or_compute(client: redis.Redis, key: str, fetch: Callable[[], Any], deadline: float) -> Any:
    if not 0 < deadline < float("inf"):
        raise ValueError("deadline must be positive and finite")
    lock = RedisLock(client, key, LOCK_TTL_MS)
    while True:
        raw = client.get(key)
        if raw is not None:
            return json.loads(raw)
        lease = lock.try_acquire()
        if lease is None:
            time.sleep(0.02)
            continue
        done = threading.Event()

        threading.Thread(target=_renew, args=(lock, lease, done), daemon=True).start()
        try:
            raw = client.get(key)
            if raw is not None:
                return json.loads(raw)
            value = fetch()
            ttl = NEGATIVE_TTL_SECONDS if value is None else TTL_SECONDS
            client.set(key, json.dumps(value), ex=ttl)
            return value
        finally:
            done.set()
            lock.release(lease)
