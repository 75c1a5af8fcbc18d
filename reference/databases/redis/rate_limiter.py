"""A sliding-window rate limiter as one Lua script on the Redis server's clock.

The guide's ``checkRateLimit`` ran ``ZREMRANGEBYSCORE; ZADD now now; ZCARD; EXPIRE`` in a MULTI and
decided in the application. Its defects, each fixed here:

- **Same-millisecond requests collapse.** The member was ``${now}``; two requests in one
  millisecond wrote one member, so a burst was under-counted. Here every request has a unique
  member (a random id).
- **Rejected requests were counted.** ZADD ran before the check, so a client that keeps retrying
  keeps its window full and is blocked forever, and the sorted set grows without bound. Here the
  script adds the request only when it is allowed: ``ZCARD`` never exceeds the limit.
- **Each app server used its own clock** (``Date.now()``); skewed servers expired each other's
  entries. Here the time is ``redis.call('TIME')``: one clock for every caller.
- **Errors were ignored** (``exec`` results unchecked) and there was **no Retry-After**. Here a
  Redis error raises, and a denial says how long until the oldest counted request leaves the
  window.

One ``EVALSHA`` is one round trip, like the PING it is benchmarked against
(``bench/rate_limiter.py``). Taught in ``notebooks/02_databases_redis.ipynb``.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from typing import Final

import redis

MAX_LIMIT: Final = 1_000_000_000
"""Far above any real limit, far below 2^53 (past it Lua's doubles miscount ``remaining``)."""
MAX_WINDOW_MS: Final = 366 * 24 * 3600 * 1000
"""A year: microsecond scores stay exact doubles, and ``PEXPIRE`` always accepts the window."""

# KEYS[1]: the window's sorted set. ARGV[1]: limit, ARGV[2]: window (ms), ARGV[3]: unique member.
# Scores are server microseconds. Lua numbers are doubles and redis.call() would turn them into
# strings with "%.14g" (losing the last digits of a 16-digit microsecond time), so numbers are
# formatted here. Returns {allowed (1/0), remaining, retry_after_ms, count}.
# A script is not a transaction: a command that fails after ZADD (PEXPIRE with a window it cannot
# take) would leave the member in a key that never expires. So the arguments are checked before
# the first write, here as well as in Python (any client may EVALSHA it).
SCRIPT: Final = f"""
local key = KEYS[1]
local limit = tonumber(ARGV[1])
local window_ms = tonumber(ARGV[2])
if not limit or limit < 1 or limit > {MAX_LIMIT} or limit % 1 ~= 0 then
  return redis.error_reply('limit must be an integer between 1 and {MAX_LIMIT}')
end
if not window_ms or window_ms < 1 or window_ms > {MAX_WINDOW_MS} or window_ms % 1 ~= 0 then
  return redis.error_reply('window_ms must be an integer between 1 and {MAX_WINDOW_MS}')
end
local window_us = window_ms * 1000
local t = redis.call('TIME')
local now_us = tonumber(t[1]) * 1000000 + tonumber(t[2])
local function num(n) return string.format('%.0f', n) end

redis.call('ZREMRANGEBYSCORE', key, '-inf', num(now_us - window_us))
local count = redis.call('ZCARD', key)
if count < limit then
  redis.call('ZADD', key, num(now_us), ARGV[3])
  redis.call('PEXPIRE', key, num(window_ms))
  return {{1, limit - count - 1, 0, count + 1}}
end
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
local retry_us = tonumber(oldest[2]) + window_us - now_us
return {{0, 0, math.max(1, math.ceil(retry_us / 1000)), count}}
"""


@dataclass(frozen=True)
class RateLimitDecision:
    """The outcome of one request: allowed or not, what is left, and when to retry."""

    allowed: bool
    limit: int
    remaining: int
    retry_after_ms: int
    """0 when allowed; otherwise milliseconds until the oldest counted request leaves the window."""

    @property
    def retry_after_seconds(self) -> int:
        """Whole seconds for an HTTP ``Retry-After`` header (rounded up; 0 when allowed)."""
        return math.ceil(self.retry_after_ms / 1000)

    def headers(self) -> dict[str, str]:
        """``RateLimit-Limit``/``RateLimit-Remaining`` and, on a denial, ``Retry-After``."""
        values = {"RateLimit-Limit": str(self.limit), "RateLimit-Remaining": str(self.remaining)}
        if not self.allowed:
            values["Retry-After"] = str(self.retry_after_seconds)
        return values


class SlidingWindowLimiter:
    """At most ``limit`` allowed requests per key in any ``window_ms`` span (a sliding window)."""

    def __init__(
        self, client: redis.Redis, limit: int, window_ms: int, *, prefix: str = ""
    ) -> None:
        for label, value, maximum in (
            ("limit", limit, MAX_LIMIT),
            ("window_ms", window_ms, MAX_WINDOW_MS),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= maximum:
                raise ValueError(
                    f"{label} must be a positive integer up to {maximum} (got {value!r})"
                )
        self.limit = limit
        self.window_ms = window_ms
        self.prefix = prefix
        self._client = client
        self._script = client.register_script(SCRIPT)

    def key_for(self, subject: str) -> str:
        """The sorted set that holds ``subject``'s allowed requests."""
        return f"{self.prefix}ratelimit:{subject}"

    def hit(self, subject: str, *, token: str | None = None) -> RateLimitDecision:
        """Count one request by ``subject`` (a user id, API key, IP …) if the window has room.

        ``token`` names the counted request (random by default); pass your own to ``forget`` it
        later — chapter 07's login throttle takes back the slots of a successful login."""
        if not subject:
            raise ValueError("subject must not be empty")
        reply = self._script(
            keys=[self.key_for(subject)],
            args=[self.limit, self.window_ms, token or secrets.token_hex(8)],
        )
        allowed, remaining, retry_after_ms, _count = (int(x) for x in reply)
        return RateLimitDecision(
            allowed=allowed == 1,
            limit=self.limit,
            remaining=remaining,
            retry_after_ms=retry_after_ms,
        )

    def forget(self, subject: str, token: str) -> bool:
        """Un-count the request ``hit`` counted under ``token``; False if it was not (or no longer) there."""
        return bool(self._client.zrem(self.key_for(subject), token))
