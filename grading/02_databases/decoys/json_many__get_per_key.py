"""Decoy for 02.6: right values, one GET per key — N round trips where one MGET does. Caught by the
one-round-trip test.

Caught by test_one_round_trip.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import redis


def get_many_json(client: redis.Redis, keys: Sequence[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key in keys:
        raw = client.get(key)
        if raw is None:
            continue
        try:
            found[key] = json.loads(raw)
        except json.JSONDecodeError as error:
            raise ValueError(f"key {key!r} does not hold JSON: {error}") from error
    return found
