"""Decoy for 03.2: reuse marks the family revoked, but the script never checks ``state``, so the
newest token keeps rotating. Caught by test_a_replay_revokes_the_whole_family."""

from __future__ import annotations

import redis

SCRIPT = """
local jti = redis.call('HGET', KEYS[1], 'jti')
if not jti then return 'unknown' end
if jti ~= ARGV[1] then
  redis.call('HSET', KEYS[1], 'state', 'revoked')
  return 'reuse'
end
redis.call('HSET', KEYS[1], 'jti', ARGV[2])
return 'ok'
"""


def rotate(client: redis.Redis, family: str, presented: str, new: str) -> str:
    return str(client.eval(SCRIPT, 1, family, presented, new))
