"""Cache-aside (look in Redis, else ask the database and remember the answer) done right.

The guide's ``CacheAsideStrategy`` (ported in :mod:`guide.caching.cache_aside`) treats every falsy
value as a miss, never caches a missing row, uses one TTL for everything and lets a Redis outage
break reads. Here:

- Every entry is an explicit envelope: ``{"v": value}`` for a value, ``{"absent": true}`` for "the
  database has no such row". ``0``, ``""``, ``[]`` and ``False`` are hits like any other value.
- A missing row is cached as a *negative entry* with a short TTL (``negative_ttl``): 100 reads of
  an id that does not exist cost one database query, and a row created later shows up within
  ``negative_ttl`` seconds.
- TTLs get jitter: each entry lives ``ttl × (1 − jitter × r)`` with ``r`` from an injectable random
  source, so entries written in one burst do not all expire — and all miss — in the same instant.
- Redis is an optimisation, never a dependency: a connection error or socket timeout (the client
  must have socket timeouts, see :func:`cache_client`) is counted in :class:`CacheStats` and the
  database answers. A slow Redis costs at most the socket timeout per call.
- Keys are checked: not a ``str``, empty, longer than :data:`MAX_KEY_LENGTH` or holding control
  characters (NUL, newlines) → ``ValueError`` before anything reaches Redis or the database.

:func:`user_fetcher` reads the course's users (chapters 01/02, :mod:`reference.databases.models`)
from PostgreSQL by id. Taught in ``notebooks/06_caching_aside.ipynb`` §2.
"""

from __future__ import annotations

import json
import logging
import math
import random
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Generic, TypeVar

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from reference.databases.models import User
from reference.setup.ports import free_port

T = TypeVar("T")

log = logging.getLogger(__name__)

MAX_KEY_LENGTH: Final = 200
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")
_ABSENT: Final = '{"absent":true}'

# What "Redis is down or slow" looks like to redis-py: refused/reset connections and socket timeouts
# (ConnectionError, TimeoutError) and a server that is loading or read-only (BusyLoadingError and
# ReadOnlyError are ConnectionError/ResponseError subclasses). A WRONGTYPE or a script error is a
# bug in our code and must still raise.
REDIS_OUTAGES: Final = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    redis.exceptions.ReadOnlyError,
)


@dataclass
class CacheStats:
    """What the cache did, counted: the numbers a dashboard (or a test) needs."""

    hits: int = 0
    negative_hits: int = 0
    misses: int = 0
    fetches: int = 0
    redis_errors: int = 0


def check_key(key: object) -> str:
    """``key`` if it is a usable cache key, else ``ValueError`` (``TypeError`` for a non-str)."""
    if not isinstance(key, str):
        raise TypeError(f"cache key must be a str, not {type(key).__name__}")
    if not key:
        raise ValueError("cache key must not be empty")
    if len(key) > MAX_KEY_LENGTH:
        raise ValueError(f"cache key is {len(key)} characters long; at most {MAX_KEY_LENGTH}")
    if _CONTROL.search(key):
        raise ValueError(f"cache key {key[:40]!r} holds a control character (NUL, newline, …)")
    return key


def jittered_ms(ttl: float, jitter: float, rng: Callable[[], float]) -> int:
    """``ttl`` seconds shortened by up to ``jitter`` (a fraction), in whole milliseconds (≥ 1)."""
    return max(1, math.floor(ttl * 1000 * (1 - jitter * rng())))


def cache_client(url: str, *, timeout_seconds: float = 0.25) -> redis.Redis:
    """A client for a cache: short connect and socket timeouts, so a slow or dead Redis costs a
    read at most ``timeout_seconds`` before the database answers instead. (A client without
    ``socket_timeout`` waits forever on a Redis that accepted the connection and stopped
    answering.) No retries either: redis-py's default retries a failed command three times with
    backoff — seconds per read while Redis is down, where the database could have answered."""
    return redis.Redis.from_url(
        url,
        decode_responses=True,
        socket_connect_timeout=timeout_seconds,
        socket_timeout=timeout_seconds,
        retry=Retry(NoBackoff(), 0),
    )


def unreachable_redis(timeout_seconds: float = 0.2) -> redis.Redis:
    """A :func:`cache_client` pointed at a local port nobody listens on: "Redis is down", made real
    without stopping anyone's server (the port is bound, then released, so connections are
    refused)."""
    return cache_client(f"redis://127.0.0.1:{free_port()}/0", timeout_seconds=timeout_seconds)


class CacheAside(Generic[T]):
    """``get(key)``: the cached value, else ``fetcher(key)`` remembered for ``ttl`` seconds.

    ``fetcher`` returns ``None`` for "no such row"; that answer is remembered for ``negative_ttl``
    seconds. Values must be JSON-serialisable.
    """

    def __init__(
        self,
        client: redis.Redis,
        namespace: str,
        fetcher: Callable[[str], T | None],
        *,
        ttl: float = 300.0,
        negative_ttl: float = 30.0,
        jitter: float = 0.1,
        rng: Callable[[], float] = random.random,
    ) -> None:
        if not (ttl > 0 and negative_ttl > 0 and math.isfinite(ttl + negative_ttl)):
            raise ValueError("ttl and negative_ttl must be positive numbers of seconds")
        if not 0 <= jitter < 1:
            raise ValueError("jitter must be a fraction in [0, 1)")
        self.client = client
        self.namespace = namespace
        self.fetcher = fetcher
        self.ttl = ttl
        self.negative_ttl = negative_ttl
        self.jitter = jitter
        self.rng = rng
        self.stats = CacheStats()

    def redis_key(self, key: str) -> str:
        return f"{self.namespace}:{check_key(key)}"

    def get(self, key: str) -> T | None:
        cache_key = self.redis_key(key)
        raw = self._redis_get(cache_key)
        if raw is not None:
            envelope = json.loads(raw)
            if envelope.get("absent"):
                self.stats.negative_hits += 1
                return None
            self.stats.hits += 1
            value: T = envelope["v"]
            return value
        self.stats.misses += 1
        self.stats.fetches += 1
        data = self.fetcher(key)
        self._store(cache_key, data)
        return data

    def put(self, key: str, value: T) -> bool:
        """Store ``value`` (write-through); ``False`` if Redis was unreachable (counted)."""
        return self._store(self.redis_key(key), value)

    def invalidate(self, key: str) -> None:
        """Drop the entry (after the database commit — never before, see invalidation.py)."""
        try:
            self.client.delete(self.redis_key(key))
        except REDIS_OUTAGES as error:
            self._outage("DEL", error)

    def _redis_get(self, cache_key: str) -> str | None:
        try:
            raw = self.client.get(cache_key)
        except REDIS_OUTAGES as error:
            self._outage("GET", error)
            return None
        # Works with either client flavour (decode_responses or not).
        return raw.decode() if isinstance(raw, bytes) else raw

    def _store(self, cache_key: str, data: T | None) -> bool:
        if data is None:
            payload, ttl = _ABSENT, self.negative_ttl
        else:
            payload = json.dumps({"v": data}, separators=(",", ":"), allow_nan=False)
            ttl = self.ttl
        try:
            self.client.set(cache_key, payload, px=jittered_ms(ttl, self.jitter, self.rng))
        except REDIS_OUTAGES as error:
            self._outage("SET", error)
            return False
        return True

    def _outage(self, command: str, error: Exception) -> None:
        self.stats.redis_errors += 1
        log.warning("cache %s failed, reading through to the database: %s", command, error)


def user_row(user: User) -> dict[str, Any]:
    """The cached shape of a user: JSON-ready, no password hash."""
    return {
        "id": str(user.id),
        "email": user.email,
        "name": user.name,
        "status": user.status.value,
        "role": user.role.value,
    }


def parse_user_id(user_id: str) -> uuid.UUID:
    """The UUID in ``user_id``, or ``ValueError`` — before any query runs."""
    try:
        return uuid.UUID(user_id)
    except (ValueError, AttributeError, TypeError) as error:
        raise ValueError(f"not a user id: {user_id[:40]!r}") from error


def user_fetcher(engine: Engine) -> Callable[[str], dict[str, Any] | None]:
    """A fetcher reading one user by id from PostgreSQL (``None`` when there is no such user)."""

    def fetch(user_id: str) -> dict[str, Any] | None:
        uid = parse_user_id(user_id)
        with Session(engine) as session:
            user = session.get(User, uid)
            return None if user is None else user_row(user)

    return fetch
