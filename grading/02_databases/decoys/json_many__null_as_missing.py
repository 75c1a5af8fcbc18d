"""Decoy for 02.6: one MGET, but the decoded values filtered with ``is not None`` — a stored JSON
``null`` is dropped as if the key were missing. Caught by the falsy-values and missing-keys tests.

Caught by test_falsy_values_come_back_as_stored.
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
        try:
            value = json.loads(raw) if raw is not None else None
        except json.JSONDecodeError as error:
            raise ValueError(f"key {key!r} does not hold JSON: {error}") from error
        if value is not None:  # meant to skip misses, but a stored null is None too
            found[key] = value
    return found
