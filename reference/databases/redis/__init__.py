"""Redis patterns of chapter 02, corrected from the guide's ``RedisService``.

- :mod:`.client` — a client from the configured URL (auth, TLS), not a hard-coded port.
- :mod:`.json_cache` — JSON values that tell a miss (``MISSING``) from a stored falsy value.
- :mod:`.lock` — a ``SET NX PX`` lock with an owner-checked Lua release, bounded acquire wait,
  owner-only extend and a fencing token from ``INCR``.
- :mod:`.fencing` — the fenced write a lock holder makes (``UPDATE … WHERE fence <= :f``) in
  PostgreSQL.
- :mod:`.rate_limiter` — a sliding-window limiter as one Lua script on the server's clock.

Taught in ``notebooks/02_databases_redis.ipynb``.
"""

from reference.databases.redis.client import connect
from reference.databases.redis.fencing import (
    create_fenced_table,
    create_resource,
    fenced_write,
    read_fenced,
)
from reference.databases.redis.json_cache import MISSING, Missing, get_json, set_json
from reference.databases.redis.lock import Lease, LockNotAcquiredError, RedisLock
from reference.databases.redis.rate_limiter import RateLimitDecision, SlidingWindowLimiter

__all__ = [
    "MISSING",
    "Lease",
    "LockNotAcquiredError",
    "Missing",
    "RateLimitDecision",
    "RedisLock",
    "SlidingWindowLimiter",
    "connect",
    "create_fenced_table",
    "create_resource",
    "fenced_write",
    "get_json",
    "read_fenced",
    "set_json",
]
