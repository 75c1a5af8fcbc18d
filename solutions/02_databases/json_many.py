"""Taught in notebooks/02_databases_redis.ipynb §1.

Exercise 02.6: read many cached JSON values at once, without losing the falsy ones.

The guide's ``getJSON`` returned ``null`` for a miss, and its callers tested ``if (cached)``: a cached
``0``, ``""``, ``false``, ``[]`` or ``null`` looked exactly like a miss, so those values were fetched
again on every request. Write ``get_many_json``: one round trip (``MGET``) for all the keys, a dict
holding every key that EXISTS — whatever its value, falsy ones included — and no entry for keys that
do not exist. A key holding something that is not JSON is an error (``ValueError`` naming the key),
not a miss.

Values were written with ``reference.databases.redis.set_json`` (JSON text).
"""

from __future__ import annotations

import json  # noqa: F401, RUF100 - for your solution
from collections.abc import Sequence
from typing import Any

import redis


def get_many_json(client: redis.Redis, keys: Sequence[str]) -> dict[str, Any]:
    """``{key: value}`` for every key in ``keys`` that exists in Redis, in one ``MGET``."""
    if not keys:
        return {}
    found: dict[str, Any] = {}
    for key, raw in zip(keys, client.mget(list(keys)), strict=True):
        if raw is None:
            continue
        try:
            found[key] = json.loads(raw)
        except json.JSONDecodeError as error:
            raise ValueError(f"key {key!r} does not hold JSON: {error}") from error
    return found
