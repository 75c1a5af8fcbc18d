"""Invalidation that cannot go stale: the stale-set race, forced, and a generation-guarded fill.

The race (absent from the guide's strategy table, guide-defects.md §6.1), with "update the row,
then delete the cache entry" — the usual advice:

1. a reader misses and reads the row from the database (the *old* value);
2. a writer commits the new value and deletes the cache entry (there is none yet);
3. the reader stores what it read in step 1 — the old value, now cached until its TTL runs out.

:class:`NaiveUserCache` does exactly that; its ``after_fetch`` hook lets a test or notebook hold the
reader between 1 and 3 (a ``threading.Event``) while the writer runs, so the interleaving is forced
deterministically rather than hoped for.

The fix, :class:`VersionedUserCache`: each user has one Redis hash ``{ns}:{id}`` holding a
generation counter ``gen`` beside the cached ``data`` and the generation it was filled at
(``data_gen``).

- The writer commits, *then* bumps ``gen`` (``HINCRBY``, atomic). It never deletes.
- The reader reads ``gen`` *before* it reads the database, and fills with a Lua script that writes
  only if ``gen`` is still what it read. A writer that committed after the reader's database read
  has bumped ``gen`` (or will: then the fill lands and the bump invalidates it right after), so an
  old value can never be stored as current.
- A hit is ``data_gen == gen``.

Why a generation in Redis, bumped after the commit, rather than a ``version`` column bumped in the
same transaction: the reader would have to ask the database for the version before every cache read,
which is the read the cache exists to avoid; and the course's ``users`` table is shared by every
chapter (``token_version`` means "log out everywhere", not "row changed"). Keeping ``gen`` and
``data`` in one hash means an eviction or expiry drops both together — a lone version key evicted
while old data survives would let ``INCR`` start over and resurrect a stale entry. The guard is the
same idea as memcached's leases and ``SET … GET``: a fill is allowed only if nothing was invalidated
since the reader looked.

What it still cannot cover: a writer that dies between its commit and its bump leaves the old entry
until the TTL (as delete-after-commit does). Closing that gap needs the invalidation to ride on the
commit itself — the outbox or change data capture of chapter 05 — and the TTL stays as the backstop.
Taught in ``notebooks/06_caching_aside.ipynb`` §3.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any, Final

import redis
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from reference.caching.aside import check_key, user_fetcher
from reference.databases.models import User

# KEYS[1] = the user's hash; ARGV = generation the reader saw, JSON data, TTL in ms.
# Fill only if no writer bumped the generation since the reader read it.
_FILL: Final = """
local gen = tonumber(redis.call('HGET', KEYS[1], 'gen') or '0')
if gen ~= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'gen', gen, 'data', ARGV[2], 'data_gen', gen)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
"""

# A bump on a hash that had expired must not live forever: it gets the entry TTL too.
_BUMP: Final = """
local gen = redis.call('HINCRBY', KEYS[1], 'gen', 1)
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return gen
"""


def update_user_name(engine: Engine, user_id: str, name: str) -> None:
    """``UPDATE users SET name = :name`` in its own transaction, committed on return."""
    with Session(engine) as session, session.begin():
        session.execute(update(User).where(User.id == uuid.UUID(user_id)).values(name=name))


class NaiveUserCache:
    """Cache-aside with delete-after-commit: correct-looking, and beaten by the stale-set race."""

    def __init__(
        self,
        client: redis.Redis,
        engine: Engine,
        namespace: str,
        *,
        ttl_ms: int = 300_000,
        after_fetch: Callable[[], None] = lambda: None,
    ) -> None:
        self.client = client
        self.engine = engine
        self.namespace = namespace
        self.ttl_ms = ttl_ms
        self.fetch = user_fetcher(engine)
        self.after_fetch = after_fetch  # the reader's pause point, between database read and SET

    def key(self, user_id: str) -> str:
        return f"{self.namespace}:{check_key(user_id)}"

    def get(self, user_id: str) -> dict[str, Any] | None:
        raw = self.client.get(self.key(user_id))
        if raw is not None:
            cached: dict[str, Any] = json.loads(raw)
            return cached
        user = self.fetch(user_id)
        self.after_fetch()
        if user is not None:
            self.client.set(self.key(user_id), json.dumps(user), px=self.ttl_ms)
        return user

    def rename(self, user_id: str, name: str) -> None:
        update_user_name(self.engine, user_id, name)
        self.client.delete(self.key(user_id))


class VersionedUserCache:
    """Cache-aside whose fills are guarded by a generation the writer bumps after committing."""

    def __init__(
        self,
        client: redis.Redis,
        engine: Engine,
        namespace: str,
        *,
        ttl_ms: int = 300_000,
        after_fetch: Callable[[], None] = lambda: None,
    ) -> None:
        self.client = client
        self.engine = engine
        self.namespace = namespace
        self.ttl_ms = ttl_ms
        self.fetch = user_fetcher(engine)
        self.after_fetch = after_fetch
        self._fill = client.register_script(_FILL)
        self._bump = client.register_script(_BUMP)

    def key(self, user_id: str) -> str:
        return f"{self.namespace}:{check_key(user_id)}"

    def get(self, user_id: str) -> dict[str, Any] | None:
        key = self.key(user_id)
        gen, data, data_gen = self.client.hmget(key, ["gen", "data", "data_gen"])
        if data is not None and data_gen == gen:
            cached: dict[str, Any] = json.loads(data)
            return cached
        seen = int(gen or 0)  # read BEFORE the database: the fill is checked against it
        user = self.fetch(user_id)
        self.after_fetch()
        if user is not None:
            self._fill(keys=[key], args=[seen, json.dumps(user), self.ttl_ms])
        return user

    def invalidate(self, user_id: str) -> int:
        """Bump the generation (call after the commit); returns the new generation."""
        return int(self._bump(keys=[self.key(user_id)], args=[self.ttl_ms]))

    def rename(self, user_id: str, name: str) -> None:
        update_user_name(self.engine, user_id, name)
        self.invalidate(user_id)
