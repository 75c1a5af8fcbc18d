"""Decoy for 02.8: the script is right except its member: ``ZADD key now now``, the guide's own
choice, so requests in the same millisecond collapse into one entry and a burst gets past the limit.
Caught by the same-millisecond test (five requests in one MULTI leave fewer than five entries).

Caught by test_exactly_the_limit_under_concurrency.
"""

from __future__ import annotations

import secrets

import redis

MAX_LIMIT = 1_000_000_000  # Lua numbers are doubles: far past any limit, far below 2^53
MAX_WINDOW_MS = 366 * 24 * 3600 * 1000  # a year: PEXPIRE takes it, and ms scores stay exact


def limiter_script() -> str:
    """The Lua source of the limiter."""
    return f"""
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
if not limit or limit < 1 or limit > {MAX_LIMIT} or limit % 1 ~= 0 then
  return redis.error_reply('limit must be a whole number from 1 to {MAX_LIMIT}')
end
if not window or window < 1 or window > {MAX_WINDOW_MS} or window % 1 ~= 0 then
  return redis.error_reply('window must be a whole number of ms from 1 to {MAX_WINDOW_MS}')
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], 0, now - window)
local used = redis.call('ZCARD', KEYS[1])
if used >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {{0, 0, math.max(1, tonumber(oldest[2]) + window - now)}}
end
redis.call('ZADD', KEYS[1], now, now)
redis.call('PEXPIRE', KEYS[1], window)
return {{1, limit - used - 1, 0}}
"""


def hit(client: redis.Redis, key: str, limit: int, window_ms: int) -> tuple[bool, int, int]:
    """One request against ``key``'s window: ``(allowed, remaining, retry_after_ms)``."""
    script = client.register_script(limiter_script())
    allowed, remaining, retry_after_ms = script(
        keys=[key], args=[limit, window_ms, secrets.token_hex(8)]
    )
    return bool(allowed), int(remaining), int(retry_after_ms)
