"""Decoy for 06.3: no lock at all — GET, and on a miss every caller fetches and SETs (negative entries included). Caught by test_cold_key_fifty_readers_one_fetch."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import redis

TTL_SECONDS = 300
NEGATIVE_TTL_SECONDS = 30
LOCK_TTL_MS = 2000


def get_or_compute(client: redis.Redis, key: str, fetch: Callable[[], Any], deadline: float) -> Any:
    if not 0 < deadline < float("inf"):
        raise ValueError("deadline must be positive and finite")
    raw = client.get(key)
    if raw is not None:
        return json.loads(raw)
    value = fetch()
    client.set(key, json.dumps(value), ex=NEGATIVE_TTL_SECONDS if value is None else TTL_SECONDS)
    return value
