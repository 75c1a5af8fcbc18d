"""Decoy for 02.6, built from the guide: its ``getJSON`` (``json ? JSON.parse(json) : null``) plus
the callers' ``if (cached)`` test, so every falsy value is treated as a miss. It must fail.

Caught by test_falsy_values_come_back_as_stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import redis

from guide.databases.redis_service import RedisService


def get_many_json(client: redis.Redis, keys: Sequence[str]) -> dict[str, Any]:
    service = RedisService(client)
    found: dict[str, Any] = {}
    for key in keys:
        cached = service.get_json(key)
        if cached:  # if (cached) return cached;
            found[key] = cached
    return found
