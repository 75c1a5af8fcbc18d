"""Decoy for 06.3: the guide's StampedeProtectedCache — 100 ms retry by recursion, no deadline, misses never cached (if data), 5 s lock never extended. Caught by test_missing_key_costs_one_fetch (and the deadline test)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import redis

TTL_SECONDS = 300
NEGATIVE_TTL_SECONDS = 30
LOCK_TTL_MS = 2000


def get_or_compute(client: redis.Redis, key: str, fetch: Callable[[], Any], deadline: float) -> Any:
    raw = client.get(key)
    cached = json.loads(raw) if raw else None
    if cached:
        return cached
    lock_key = f"lock:{key}"
    lock_id = str(uuid.uuid4())
    if client.set(lock_key, lock_id, px=5000, nx=True):
        try:
            raw = client.get(key)
            rechecked = json.loads(raw) if raw else None
            if rechecked:
                return rechecked
            data = fetch()
            if data:
                client.setex(key, TTL_SECONDS, json.dumps(data))
            return data
        finally:
            if client.get(lock_key) == lock_id:
                client.delete(lock_key)
    time.sleep(0.1)
    return get_or_compute(client, key, fetch, deadline)
