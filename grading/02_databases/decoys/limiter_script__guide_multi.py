"""Decoy for 02.8: the guide's MULTI limiter behind the exercise's interface — ZADD before the
check, member = the app's millisecond clock, no Retry-After. It must fail.

Caught by test_exactly_the_limit_under_concurrency.
"""

from __future__ import annotations

import redis

from guide.databases.redis_service import RedisService


def limiter_script() -> str:
    return "-- the guide used MULTI: ZREMRANGEBYSCORE, ZADD now now, ZCARD, EXPIRE"


def hit(client: redis.Redis, key: str, limit: int, window_ms: int) -> tuple[bool, int, int]:
    result = RedisService(client).check_rate_limit(key, limit, max(1, window_ms // 1000))
    return bool(result["allowed"]), int(result["remaining"]), 0
