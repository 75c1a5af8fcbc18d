"""Taught in notebooks/02_databases_redis.ipynb §3.

Exercise 02.8: a sliding-window rate limiter as one Lua script.

The guide's limiter ran ``ZREMRANGEBYSCORE; ZADD now now; ZCARD; EXPIRE`` in a MULTI and decided in
the application: requests in the same millisecond collapsed into one member, rejected requests were
added too (a client that keeps retrying is blocked forever), and every app server used its own clock.

Write the Lua script that :func:`hit` runs. Inside it, atomically:

- first check the arguments, before anything is written: ``ARGV[1]`` (limit) and ``ARGV[2]`` must be
  whole numbers of at least 1, the limit at most ``MAX_LIMIT`` and the window at most
  ``MAX_WINDOW_MS``; otherwise return
  ``redis.error_reply('…')`` and write nothing. A script is not a transaction: writes made before a
  failing command stay, so a ``PEXPIRE`` refusing a huge window after the ``ZADD`` would leave a key
  that never expires;
- take the time from the Redis server (``redis.call('TIME')`` → seconds and microseconds);
- drop the entries older than the window from the sorted set ``KEYS[1]``;
- if fewer than ``ARGV[1]`` (limit) remain, add this request with a member that is unique
  (``ARGV[3]``), scored by the current time, and set the key to expire after the window;
- otherwise add nothing;
- return ``{allowed (1 or 0), remaining, retry_after_ms}`` — ``retry_after_ms`` is 0 when allowed,
  else the milliseconds until the oldest entry leaves the window (at least 1).

``ARGV[2]`` is the window in milliseconds. Lua numbers are doubles: ``redis.call`` turns them into
strings with 14 significant digits, so use millisecond scores (13 digits) or format them yourself.
"""

from __future__ import annotations

import secrets

import redis

MAX_LIMIT = 1_000_000_000  # Lua numbers are doubles: far past any limit, far below 2^53
MAX_WINDOW_MS = 366 * 24 * 3600 * 1000  # a year: PEXPIRE takes it, and ms scores stay exact


def limiter_script() -> str:
    """The Lua source of the limiter."""
    # TODO: return the Lua source described in the module docstring: server time, trim the window,
    # add the request only when it is allowed, expire the key, return allowed, remaining and
    # retry-after.
    raise NotImplementedError


def hit(client: redis.Redis, key: str, limit: int, window_ms: int) -> tuple[bool, int, int]:
    """One request against ``key``'s window: ``(allowed, remaining, retry_after_ms)``."""
    script = client.register_script(limiter_script())
    allowed, remaining, retry_after_ms = script(
        keys=[key], args=[limit, window_ms, secrets.token_hex(8)]
    )
    return bool(allowed), int(remaining), int(retry_after_ms)
