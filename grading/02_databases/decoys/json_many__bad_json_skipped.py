"""Decoy for 02.6: one MGET, falsy values kept, but a value that is not JSON is skipped like a miss —
a corrupted cache entry hides instead of being reported. Caught by the non-JSON test.

Caught by test_non_json_is_an_error.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import redis


def get_many_json(client: redis.Redis, keys: Sequence[str]) -> dict[str, Any]:
    if not keys:
        return {}
    found: dict[str, Any] = {}
    for key, raw in zip(keys, client.mget(list(keys)), strict=True):
        if raw is None:
            continue
        try:
            found[key] = json.loads(raw)
        except json.JSONDecodeError:
            continue
    return found
