"""A Redis lock that knows its limits: owner-checked release, bounded wait, extend, fencing token.

The guide's ``acquireLock``/``releaseLock`` got the basics right (``SET NX PX`` with a random
token, a Lua compare-and-delete release). What it lacked:

- **Fencing.** A holder that stalls past the TTL (GC pause, slow fetch) still *believes* it holds
  the lock while a second client acquires it: two holders. No lock timeout can prevent that; the
  resource must refuse the stale holder. Every successful acquire here returns a fencing token from
  ``INCR`` (taken in the same Lua script, so tokens increase in acquisition order), and the
  protected write carries it (:func:`reference.databases.redis.fencing.fenced_write`: ``UPDATE …
  WHERE fence <= :f``).
- **Renewal.** :meth:`RedisLock.extend` pushes the expiry out, and only for the current owner.
- **A bounded acquire.** :meth:`RedisLock.acquire` waits at most ``wait_seconds`` and returns
  ``None`` rather than spinning forever or failing on the first try.

Compared with ``redis.lock.Lock`` (redis-py's own): that one also releases and extends with
owner-checked Lua scripts and has ``blocking_timeout``; it keeps the token in a thread-local and
raises ``LockNotOwnedError`` on a lost lock. It hands out no fencing token, so it alone cannot stop
a stalled holder's late write. Neither survives a Redis failover that loses the key (asynchronous
replication); fencing is what keeps the data safe then too. Taught in
``notebooks/02_databases_redis.ipynb``.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Final

import redis

# KEYS[1] lock key, KEYS[2] fence counter; ARGV[1] token, ARGV[2] ttl ms.
# Returns the new fencing token, or false (nil) when somebody else holds the lock.
_ACQUIRE: Final = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return redis.call('INCR', KEYS[2])
end
return false
"""

# Delete the key only if it still holds our token.
_RELEASE: Final = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

# Set a new TTL only if the key still holds our token.
_EXTEND: Final = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""


MAX_TTL_MS: Final = 24 * 3600 * 1000
"""A day. A lease longer than that is a bug, and a TTL near 2^63 ms would fail inside ``PEXPIRE``."""


def check_ttl_ms(ttl_ms: int) -> int:
    """``ttl_ms`` if it is an int in ``1…MAX_TTL_MS``; otherwise ``ValueError`` (never Redis's own
    ``ResponseError`` from a script halfway through)."""
    if isinstance(ttl_ms, bool) or not isinstance(ttl_ms, int) or not 0 < ttl_ms <= MAX_TTL_MS:
        raise ValueError(
            f"ttl_ms must be a positive integer of milliseconds up to {MAX_TTL_MS} (got {ttl_ms!r})"
        )
    return ttl_ms


class LockNotAcquiredError(TimeoutError):
    """Raised by :meth:`RedisLock.hold` when the lock stayed taken for the whole wait."""


@dataclass(frozen=True)
class Lease:
    """One successful acquire: the token that proves ownership and the fencing token for writes."""

    name: str
    token: str
    fence: int
    ttl_ms: int


class RedisLock:
    """A named lock. ``ttl_ms`` bounds how long a crashed holder blocks others.

    Keys: ``lock:{name}`` holds the owner's token; ``lock:{name}:fence`` counts acquisitions (the
    hash tag keeps both in one cluster slot). ``prefix`` namespaces both (tests, notebooks).
    """

    def __init__(self, client: redis.Redis, name: str, ttl_ms: int, *, prefix: str = "") -> None:
        if not name:
            raise ValueError("lock name must not be empty")
        self.name = name
        self.ttl_ms = check_ttl_ms(ttl_ms)
        self.key = f"{prefix}lock:{{{name}}}"
        self.fence_key = f"{self.key}:fence"
        self._client = client
        self._acquire = client.register_script(_ACQUIRE)
        self._release = client.register_script(_RELEASE)
        self._extend = client.register_script(_EXTEND)

    def try_acquire(self) -> Lease | None:
        """One attempt: a :class:`Lease` with a fresh fencing token, or ``None`` if held."""
        token = secrets.token_hex(16)
        fence = self._acquire(keys=[self.key, self.fence_key], args=[token, self.ttl_ms])
        if fence is None:
            return None
        return Lease(name=self.name, token=token, fence=int(fence), ttl_ms=self.ttl_ms)

    def acquire(self, *, wait_seconds: float = 0.0, retry_interval: float = 0.02) -> Lease | None:
        """Try until acquired or ``wait_seconds`` have passed; ``None`` if it never came free."""
        if wait_seconds < 0 or retry_interval <= 0:
            raise ValueError("wait_seconds must be >= 0 and retry_interval > 0")
        deadline = time.monotonic() + wait_seconds
        while True:
            lease = self.try_acquire()
            if lease is not None:
                return lease
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            # Jitter spreads out waiters that would otherwise retry in lockstep.
            time.sleep(min(remaining, retry_interval * (0.5 + secrets.randbelow(1000) / 1000)))

    def release(self, lease: Lease | str) -> bool:
        """Release if ``lease`` (or its token) still owns the lock.

        ``False`` means it was not ours any more (expired, or taken by someone else) — and the
        current owner's key is left alone.
        """
        token = lease.token if isinstance(lease, Lease) else lease
        return int(self._release(keys=[self.key], args=[token])) == 1

    def extend(self, lease: Lease | str, ttl_ms: int | None = None) -> bool:
        """Reset the expiry to ``ttl_ms`` (default: the lock's TTL) if ``lease`` still owns it.

        ``False`` means the lock was lost: the caller must stop working on the resource (its fencing
        token is stale from now on, and the fenced write will refuse it anyway).
        """
        token = lease.token if isinstance(lease, Lease) else lease
        new_ttl = self.ttl_ms if ttl_ms is None else check_ttl_ms(ttl_ms)
        return int(self._extend(keys=[self.key], args=[token, new_ttl])) == 1

    def owner_token(self) -> str | None:
        """The token currently stored in the lock key (``None`` when free), for demos and tests."""
        value = self._client.get(self.key)
        if value is None:
            return None
        return value.decode() if isinstance(value, bytes) else str(value)

    @contextmanager
    def hold(self, *, wait_seconds: float = 0.0) -> Iterator[Lease]:
        """``with lock.hold(wait_seconds=1) as lease:``; releases on exit.

        Raises :class:`LockNotAcquiredError` when the wait runs out. A lock lost before exit is not
        an error on exit: the fenced write is what guarded the resource.
        """
        lease = self.acquire(wait_seconds=wait_seconds)
        if lease is None:
            raise LockNotAcquiredError(
                f"lock {self.name!r} still held by another owner after {wait_seconds}s"
            )
        try:
            yield lease
        finally:
            self.release(lease)
