"""Decoy for 03.2: a replayed token is refused but the family stays active (the guide's behaviour:
the thief's copy is dead, the thief's *rotated* token is not). Caught by test_a_replay_revokes_the_whole_family."""

from __future__ import annotations

import redis

SCRIPT = """
local fam = redis.call('HMGET', KEYS[1], 'jti', 'state')
if not fam[1] then return 'unknown' end
if fam[2] == 'revoked' then return 'revoked' end
if fam[1] ~= ARGV[1] then return 'reuse' end
redis.call('HSET', KEYS[1], 'jti', ARGV[2])
return 'ok'
"""


def rotate(client: redis.Redis, family: str, presented: str, new: str) -> str:
    return str(client.eval(SCRIPT, 1, family, presented, new))
