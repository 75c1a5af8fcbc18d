"""Decoy for 03.2: HSET on a missing family creates it — a made-up family id becomes a live
session (``HSET`` before checking that the key exists). Caught by test_an_unknown_family_is_unknown_and_not_created."""

from __future__ import annotations

import redis

SCRIPT = """
local fam = redis.call('HMGET', KEYS[1], 'jti', 'state')
if fam[2] == 'revoked' then return 'revoked' end
if fam[1] and fam[1] ~= ARGV[1] then
  redis.call('HSET', KEYS[1], 'state', 'revoked')
  return 'reuse'
end
redis.call('HSET', KEYS[1], 'jti', ARGV[2], 'state', 'active')
return 'ok'
"""


def rotate(client: redis.Redis, family: str, presented: str, new: str) -> str:
    return str(client.eval(SCRIPT, 1, family, presented, new))
