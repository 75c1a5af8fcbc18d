"""Decoy for 03.2: the guide's GET, compare in Python, then write — correct answers one at a time,
but concurrent refreshes interleave. Caught by the MONITOR test (and, when the race shows, the
ten-thread test).

Caught by test_ten_concurrent_refreshes_exactly_one_wins.
"""

from __future__ import annotations

import redis


def rotate(client: redis.Redis, family: str, presented: str, new: str) -> str:
    jti, state = client.hmget(family, ["jti", "state"])
    if jti is None:
        return "unknown"
    if state == "revoked":
        return "revoked"
    if jti != presented:
        client.hset(family, "state", "revoked")
        return "reuse"
    client.hset(family, "jti", new)
    return "ok"
