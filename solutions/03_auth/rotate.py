"""Taught in notebooks/03_auth_tokens.ipynb §4.

Exercise 03.2: rotate a refresh token with reuse detection, as one compare-and-swap in Redis.

Each login is a *family*: a Redis hash with the fields ``jti`` (the id of the one refresh token that
is currently valid) and ``state`` (``active`` or ``revoked``). The guide GETs the stored token,
compares it in the application, then SETs the new one: ten concurrent refreshes of one token all
pass the comparison before any of them writes. And a replayed old token was merely refused — the
thief's copy was dead, but so was nothing else.

Write :func:`rotate`. Atomically (one Lua script — nothing may run between the read and the write):

- the family hash ``family`` does not exist → return ``"unknown"`` and write nothing;
- its ``state`` is ``revoked`` → return ``"revoked"``;
- its ``jti`` equals ``presented`` → set ``jti`` to ``new`` and return ``"ok"``;
- otherwise the presented token was already rotated: someone replays it. Set ``state`` to
  ``revoked`` (the family's newest token must stop working too) and return ``"reuse"``.
"""

from __future__ import annotations

import redis


def rotate(client: redis.Redis, family: str, presented: str, new: str) -> str:
    """``"ok"``, ``"reuse"``, ``"revoked"`` or ``"unknown"`` — see the module docstring."""
    script = """
local fam = redis.call('HMGET', KEYS[1], 'jti', 'state')
if not fam[1] then return 'unknown' end
if fam[2] == 'revoked' then return 'revoked' end
if fam[1] ~= ARGV[1] then
  redis.call('HSET', KEYS[1], 'state', 'revoked')
  return 'reuse'
end
redis.call('HSET', KEYS[1], 'jti', ARGV[2])
return 'ok'
"""
    return str(client.eval(script, 1, family, presented, new))
