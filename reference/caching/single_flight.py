"""Single flight through Redis: one fetch per cold key across processes, every waiter bounded.

Fixes the guide's ``StampedeProtectedCache`` (``guide.caching.stampede``, guide-defects.md §6.3):

- **One fetch, even for a missing key.** The fetch's answer is stored whatever it is: a value
  (JSON, so ``0``, ``""`` and ``[]`` are values, not misses) for ``ttl_seconds``, or ``None`` as a
  *negative* entry (JSON ``null``) for ``negative_ttl_seconds``. A GET that returns ``null`` is a
  cached "no such row", so N callers of a missing key cost one query, not N.
- **A lease that outlives the fetch.** The lock is :class:`reference.databases.redis.RedisLock`
  (``SET NX PX`` with an owner token). While the fetch runs, a heartbeat thread extends the lease
  every third of its TTL (up to ``max_lease_seconds``, so a fetch hung for good frees the key in the
  end), and the result is written by a Lua script that stores the value *only if the lock still
  holds our token*, then deletes the lock and publishes on the key's channel — one atomic step. A
  holder that lost its lease (stalled past the TTL, heartbeat cut) cannot overwrite a newer value:
  the write is fenced by lock ownership.
- **Bounded waiting, no recursion.** A waiter loops: GET, try the lock, else wait for the holder's
  notification on a pub/sub channel (subscribed *before* the re-check, so the message cannot slip
  by) for at most ``recheck_seconds`` — a holder that died without publishing is noticed when its
  lease expires. When the caller's ``deadline`` (seconds it is willing to wait) passes, it raises
  :class:`ComputeTimeout`.

Why raise rather than fall back to fetching directly: the fallback turns a slow database into a
stampede on that same database, exactly when it can least take it. The caller decides what a
timeout means (serve a default, a 503 with Retry-After, …). The holder itself runs the fetch to the
end — Python cannot cancel a blocking call — so the fetch must carry its own timeout
(``statement_timeout`` in PostgreSQL); a fetch that raises is not cached, the lock is freed and the
next caller tries again.

Taught in ``notebooks/06_caching_stampede.ipynb``; exercise 06.3 ``get_or_compute``.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable
from typing import Any, Final

import redis

from reference.databases.redis import Lease, RedisLock
from reference.databases.redis.lock import check_ttl_ms

# KEYS[1] lock key, KEYS[2] value key; ARGV[1] owner token, ARGV[2] JSON, ARGV[3] ttl ms,
# ARGV[4] channel. Store, release and notify only if the lease is still ours (1), else nothing (0).
_STORE_IF_OWNER: Final = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
redis.call('DEL', KEYS[1])
redis.call('PUBLISH', ARGV[4], '1')
return 1
"""


class ComputeTimeout(TimeoutError):
    """The value did not appear before this caller's deadline (another caller is still fetching)."""


def _positive(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number of seconds (got {value!r})")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive, finite number of seconds (got {value!r})")
    return float(value)


class SingleFlightCache:
    """``get_or_compute(key, fetch, deadline)`` over one Redis client (``decode_responses`` either way).

    Keys: ``{prefix}{key}`` holds the JSON value; ``{prefix}lock:{sf:{key}}`` the lease (see
    :class:`RedisLock`); ``{prefix}sf:{key}`` is the pub/sub channel the holder publishes on.
    """

    def __init__(
        self,
        client: redis.Redis,
        *,
        prefix: str = "",
        ttl_seconds: float = 300.0,
        negative_ttl_seconds: float = 30.0,
        lock_ttl_ms: int = 2000,
        max_lease_seconds: float = 60.0,
        recheck_seconds: float = 0.05,
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.ttl_ms = int(_positive("ttl_seconds", ttl_seconds) * 1000) or 1
        self.negative_ttl_ms = (
            int(_positive("negative_ttl_seconds", negative_ttl_seconds) * 1000) or 1
        )
        self.lock_ttl_ms = check_ttl_ms(lock_ttl_ms)
        self.max_lease_seconds = _positive("max_lease_seconds", max_lease_seconds)
        self.recheck_seconds = _positive("recheck_seconds", recheck_seconds)
        self._store = client.register_script(_STORE_IF_OWNER)

    def _value_key(self, key: str) -> str:
        return f"{self.prefix}{key}"

    def _channel(self, key: str) -> str:
        return f"{self.prefix}sf:{key}"

    def _lock(self, key: str) -> RedisLock:
        return RedisLock(self.client, f"sf:{key}", self.lock_ttl_ms, prefix=self.prefix)

    def _cached(self, key: str) -> tuple[bool, Any]:
        """``(True, value)`` on a hit — ``value`` may be ``None``, a cached miss — else ``(False, None)``."""
        raw = self.client.get(self._value_key(key))
        if raw is None:
            return False, None
        return True, json.loads(raw)

    def get_or_compute(self, key: str, fetch: Callable[[], Any], deadline: float) -> Any:
        """The cached value of ``key``, computing it with ``fetch()`` at most once across all callers.

        ``deadline``: seconds this caller will wait for another caller's fetch; then
        :class:`ComputeTimeout`. ``fetch`` returns the value, or ``None`` for "does not exist"
        (cached negatively). Its result must be JSON-serialisable.
        """
        if not isinstance(key, str) or not key:
            raise ValueError("key must be a non-empty string")
        wait = _positive("deadline", deadline)
        give_up = time.monotonic() + wait
        found, value = self._cached(key)
        if found:
            return value
        lock = self._lock(key)
        pubsub = self.client.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
        try:
            pubsub.subscribe(self._channel(key))
            while True:
                # Re-check after subscribing: a value stored before then has no message coming.
                found, value = self._cached(key)
                if found:
                    return value
                lease = lock.try_acquire()
                if lease is not None:
                    return self._compute(key, lock, lease, fetch)
                remaining = give_up - time.monotonic()
                if remaining <= 0:
                    raise ComputeTimeout(
                        f"no value for {key!r} after waiting {wait:g}s: another caller is still "
                        "computing it"
                    )
                # Wake on the holder's PUBLISH, or re-check soon in case the holder died.
                pubsub.get_message(timeout=min(remaining, self.recheck_seconds))
        finally:
            pubsub.close()

    def _compute(self, key: str, lock: RedisLock, lease: Lease, fetch: Callable[[], Any]) -> Any:
        found, value = self._cached(key)  # someone stored it between our GET and our lock
        if found:
            lock.release(lease)
            return value
        stop = threading.Event()
        heartbeat = threading.Thread(target=self._keep_lease, args=(lock, lease, stop), daemon=True)
        heartbeat.start()
        try:
            value = fetch()
        except BaseException:
            lock.release(lease)  # not cached: the next caller tries again
            raise
        finally:
            stop.set()
            heartbeat.join()
        ttl_ms = self.negative_ttl_ms if value is None else self.ttl_ms
        try:
            data = json.dumps(value)
        except (TypeError, ValueError):
            lock.release(lease)  # nothing storable: free the key for the next caller now
            raise
        # Fenced by ownership: a holder whose lease ran out writes nothing (0) and still returns
        # what it fetched to its own caller.
        self._store(
            keys=[lock.key, self._value_key(key)],
            args=[lease.token, data, ttl_ms, self._channel(key)],
        )
        return value

    def _keep_lease(self, lock: RedisLock, lease: Lease, stop: threading.Event) -> None:
        """Extend the lease every third of its TTL while the fetch runs, up to ``max_lease_seconds``."""
        end = time.monotonic() + self.max_lease_seconds
        while not stop.wait(lease.ttl_ms / 3000) and time.monotonic() < end:
            if not lock.extend(lease):
                return  # lost: the store script will refuse our write


def get_or_compute(
    client: redis.Redis, key: str, fetch: Callable[[], Any], deadline: float, *, prefix: str = ""
) -> Any:
    """One-call form of :meth:`SingleFlightCache.get_or_compute` with the default TTLs."""
    return SingleFlightCache(client, prefix=prefix).get_or_compute(key, fetch, deadline)
