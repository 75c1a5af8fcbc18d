"""Decoy for 06.3: single flight with a process-local threading.Lock (bounded by the deadline, misses cached) — perfect inside one process, useless across two. Caught by test_two_processes_one_fetch."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import redis

TTL_SECONDS = 300
NEGATIVE_TTL_SECONDS = 30
LOCK_TTL_MS = 2000


class ComputeTimeout(TimeoutError):
    """The value did not appear before this caller's deadline."""


_lock = threading.Lock()


def get_or_compute(client: redis.Redis, key: str, fetch: Callable[[], Any], deadline: float) -> Any:
    if not 0 < deadline < float("inf"):
        raise ValueError("deadline must be positive and finite")
    raw = client.get(key)
    if raw is not None:
        return json.loads(raw)
    if not _lock.acquire(timeout=deadline):
        raise ComputeTimeout(key)
    try:
        raw = client.get(key)
        if raw is not None:
            return json.loads(raw)
        value = fetch()
        ttl = NEGATIVE_TTL_SECONDS if value is None else TTL_SECONDS
        client.set(key, json.dumps(value), ex=ttl)
        return value
    finally:
        _lock.release()
