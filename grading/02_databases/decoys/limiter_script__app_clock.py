"""Decoy for 02.8: the script is right, but ``now`` comes from the application (``ARGV[4]``, the app
server's clock) instead of ``redis.call('TIME')``: app servers whose clocks drift disagree about the
window. Caught by the server-clock test (MONITOR shows no TIME and a timestamp argument).

Caught by test_requests_in_the_same_millisecond_each_count.
"""

from __future__ import annotations

import secrets
import time

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
local now = tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], 0, now - window)
local used = redis.call('ZCARD', KEYS[1])
if used >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {{0, 0, math.max(1, tonumber(oldest[2]) + window - now)}}
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], window)
return {{1, limit - used - 1, 0}}
"""


def hit(client: redis.Redis, key: str, limit: int, window_ms: int) -> tuple[bool, int, int]:
    """One request against ``key``'s window: ``(allowed, remaining, retry_after_ms)``."""
    script = client.register_script(limiter_script())
    allowed, remaining, retry_after_ms = script(
        keys=[key], args=[limit, window_ms, secrets.token_hex(8), time.time_ns() // 1_000_000]
    )
    return bool(allowed), int(remaining), int(retry_after_ms)
