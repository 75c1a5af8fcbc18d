"""Decoy for 03.2: any token of an active family rotates (no comparison of the presented id).
Caught by the replay and ten-thread tests.

Caught by test_a_replay_revokes_the_whole_family.
"""

from __future__ import annotations

import redis

SCRIPT = """
local fam = redis.call('HMGET', KEYS[1], 'jti', 'state')
if not fam[1] then return 'unknown' end
if fam[2] == 'revoked' then return 'revoked' end
redis.call('HSET', KEYS[1], 'jti', ARGV[2])
return 'ok'
"""


def rotate(client: redis.Redis, family: str, presented: str, new: str) -> str:
    return str(client.eval(SCRIPT, 1, family, presented, new))
