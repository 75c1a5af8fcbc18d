"""JSON values in Redis that keep "missing" apart from falsy — the guide's ``setJSON``/``getJSON``
fixed.

The guide returned ``json ? JSON.parse(json) : null``: a stored ``null`` and a miss look the same,
so a cache of "this user has no avatar" is a permanent miss. It wrote ``ttlSeconds ? setex : set``,
so a TTL of 0 silently meant *never expire*. Here a miss is the :data:`MISSING` sentinel (``0``,
``""``, ``False``, ``[]`` and ``None`` all come back as stored), and a TTL that is not positive, or
longer than :data:`MAX_TTL` (Redis refuses an expiry past 2^63 ms), is refused with ``ValueError``. Taught in ``notebooks/02_databases_redis.ipynb``.
"""

from __future__ import annotations

import json
import math
from datetime import timedelta
from enum import Enum
from typing import Any, Final, Literal

import redis

JSONValue = Any
"""Anything :func:`json.dumps` accepts (dict, list, str, int, float, bool, None)."""


class Missing(Enum):
    """The type of :data:`MISSING`: a one-member enum, so ``x is MISSING`` narrows for mypy."""

    MISSING = "MISSING"

    def __repr__(self) -> str:
        return "MISSING"

    def __str__(self) -> str:
        return "MISSING"

    def __bool__(self) -> Literal[False]:
        return False


MISSING: Final = Missing.MISSING
"""Returned by :func:`get_json` when the key does not exist (or has expired). Test with ``is``."""


MAX_TTL: Final = timedelta(days=3650)
"""Ten years: longer than any cache entry needs, far inside what ``SET … PX`` accepts."""


def _ttl_milliseconds(ttl: float | timedelta | None) -> int | None:
    if ttl is None:
        return None
    if isinstance(ttl, bool):
        raise TypeError("ttl must be a number of seconds or a timedelta, not a bool")
    seconds = ttl.total_seconds() if isinstance(ttl, timedelta) else float(ttl)
    if not math.isfinite(seconds) or seconds <= 0:
        raise ValueError(
            f"ttl must be a positive number of seconds (got {ttl!r}); "
            "pass ttl=None for a key that never expires"
        )
    if seconds > MAX_TTL.total_seconds():
        raise ValueError(
            f"ttl must be at most {MAX_TTL.total_seconds():.0f} seconds (got {ttl!r}); "
            "pass ttl=None for a key that never expires"
        )
    milliseconds = math.ceil(seconds * 1000)
    return milliseconds


def set_json(
    client: redis.Redis,
    key: str,
    value: JSONValue,
    ttl: float | timedelta | None = None,
) -> None:
    """Store ``value`` as JSON under ``key``; ``ttl`` seconds (> 0) or ``None`` for no expiry.

    Raises ``ValueError`` for ``ttl <= 0`` (the guide's ``0`` meant "forever") and for values JSON
    cannot represent faithfully (``NaN``/``Infinity``); ``TypeError`` for objects JSON cannot
    encode at all.
    """
    ttl_ms = _ttl_milliseconds(ttl)
    payload = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    if ttl_ms is None:
        client.set(key, payload)
    else:
        client.set(key, payload, px=ttl_ms)


def get_json(client: redis.Redis, key: str) -> JSONValue | Missing:
    """The JSON value stored under ``key``, or :data:`MISSING` if there is none.

    Every stored value comes back as it was stored, falsy ones included (``0``, ``""``, ``False``,
    ``[]``, ``None``). A key holding something that is not JSON raises ``ValueError`` naming the
    key rather than being mistaken for a miss.
    """
    raw = client.get(key)
    if raw is None:
        return MISSING
    try:
        return json.loads(raw)
    except json.JSONDecodeError as error:
        raise ValueError(f"key {key!r} does not hold JSON: {error}") from error
