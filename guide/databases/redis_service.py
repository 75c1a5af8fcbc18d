"""The guide's ``RedisService`` (데이터베이스 패턴 → Redis), ported from ioredis to redis-py.

Defects kept on purpose (each has a test in ``tests/databases/test_redis_*.py`` and a fix in
``reference/databases/redis/``):

- ``set_json``: ``ttlSeconds ? setex : set`` — a TTL of 0 means *never expire*.
- ``get_json``: ``json ? JSON.parse(json) : null`` — a miss and a stored ``null`` are the same
  ``None``; the guide's callers then test ``if (cached)``, treating every falsy value as a miss.
- ``make_client``: host from ``REDIS_HOST``, port hard-coded to 6379, no password, no TLS.
- ``acquire_lock``/``release_lock``: the release is correct, but there is no fencing token, no
  renewal and no bounded wait.
- ``check_rate_limit``: MULTI with ZADD before the check (rejected requests count), member =
  ``${now}`` (same-millisecond requests collapse), the app server's clock (``Date.now()``), ``exec``
  errors ignored, no Retry-After.

The one liberty: the client is passed in and keys get an optional ``key_prefix`` (ioredis's own
``keyPrefix`` option), so tests and notebooks can point the port at the course's server.
"""

from __future__ import annotations

import json
import math
import os
import time
import uuid
from collections.abc import Callable
from typing import Any

import redis


def make_client() -> redis.Redis:
    """``new Redis({ host: process.env.REDIS_HOST, port: 6379 })``: no password, no TLS."""
    return redis.Redis(host=os.environ.get("REDIS_HOST") or "localhost", port=6379)


def _date_now() -> int:
    return int(time.time() * 1000)


class RedisService:
    def __init__(
        self,
        client: redis.Redis,
        *,
        key_prefix: str = "",
        clock: Callable[[], int] = _date_now,
    ) -> None:
        self.redis = client
        self.key_prefix = key_prefix
        self.clock = clock  # Date.now(): this app server's own clock, in milliseconds

    def _k(self, key: str) -> str:
        return self.key_prefix + key

    # JSON 저장
    def set_json(self, key: str, value: Any, ttl_seconds: int | None = None) -> None:
        data = json.dumps(value)
        if ttl_seconds:  # ttlSeconds ? setex : set  — 0 falls through to "no expiry"
            self.redis.setex(self._k(key), ttl_seconds, data)
        else:
            self.redis.set(self._k(key), data)

    def get_json(self, key: str) -> Any:
        raw = self.redis.get(self._k(key))
        return json.loads(raw) if raw else None  # json ? JSON.parse(json) : null

    # 분산 락
    def acquire_lock(self, key: str, ttl_ms: int) -> str | None:
        lock_id = str(uuid.uuid4())
        result = self.redis.set(self._k(f"lock:{key}"), lock_id, px=ttl_ms, nx=True)
        return lock_id if result else None

    def release_lock(self, key: str, lock_id: str) -> bool:
        script = (
            'if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) '
            "else return 0 end"
        )
        return bool(self.redis.eval(script, 1, self._k(f"lock:{key}"), lock_id) == 1)

    # Rate Limiting (Sliding Window)
    def check_rate_limit(self, key: str, max_requests: int, window_seconds: int) -> dict[str, Any]:
        now = self.clock()
        multi = self.redis.pipeline(transaction=True)
        multi.zremrangebyscore(self._k(key), 0, now - window_seconds * 1000)
        multi.zadd(self._k(key), {f"{now}": now})
        multi.zcard(self._k(key))
        multi.expire(self._k(key), window_seconds)
        results = multi.execute(raise_on_error=False)
        count = results[2]  # results![2][1] as number — an error reply is never looked at
        if not isinstance(count, int):
            # JS: `undefined <= max` is false and Math.max(0, max - undefined) is NaN.
            return {"allowed": False, "remaining": math.nan}
        return {"allowed": count <= max_requests, "remaining": max(0, max_requests - count)}
