"""A per-principal fixed-window rate limit kept in Redis, answering 429 with ``Retry-After``.

The pattern: one Redis key per principal and window (``<prefix>rl:<user id>:<window number>``),
``INCR`` plus ``EXPIRE … NX`` in one pipeline (atomic, so concurrent requests never lose a count and
the key always expires); the seconds left in the window (by Redis ``TIME``) become the integer
``Retry-After``. Fixed windows allow a burst of up to twice the limit across a window edge; chapter
06's sliding-window Lua limiter fixes that. If Redis is down the dependency raises and the app
answers 503 (fail closed, said out loud). Taught in ``notebooks/01_api_design_rest.ipynb``.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis

from reference.api_design.auth import Principal
from reference.api_design.problems import TooManyRequests


@dataclass(frozen=True)
class RateLimit:
    """``limit`` requests per ``window_seconds`` for each principal."""

    redis_url: str
    limit: int = 100
    window_seconds: int = 60
    prefix: str = "api:"


class FixedWindowLimiter:
    """Count a principal's requests in the current window; raise 429 past the limit."""

    def __init__(self, config: RateLimit) -> None:
        self.config = config
        self.client = redis.Redis.from_url(
            config.redis_url, socket_timeout=2, socket_connect_timeout=2
        )

    def hit(self, principal: Principal) -> int:
        """Record one request and return how many the principal has made in this window."""
        window = self.config.window_seconds
        seconds, _ = self.client.time()  # the server's clock, shared by every app instance
        key = f"{self.config.prefix}rl:{principal.user_id}:{seconds // window}"
        pipe = self.client.pipeline(transaction=True)
        pipe.incr(key)
        pipe.expire(key, window, nx=True)
        count, _ = pipe.execute()
        if int(count) > self.config.limit:
            raise TooManyRequests(retry_after=window - seconds % window)
        return int(count)

    def close(self) -> None:
        self.client.close()
