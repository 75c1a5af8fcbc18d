"""Taught in notebooks/06_caching_aside.ipynb §3.

Exercise 06.2: a user cache that the stale-set race cannot beat.

"Update the row, then delete the cache entry" loses a race: a reader misses and reads the OLD row;
a writer commits the new one and deletes the entry (there is none yet); the reader then stores the
old row — stale until its TTL. Deleting (or setting) before the commit is worse: a reader can refill
the old row while the writer's transaction is still open, and a set before a commit that then fails
caches a value the database never had.

Write ``cached_user(cache, user_id)`` (the read path, ``UserCache.get`` calls it) and
``rename_user(cache, user_id, name)`` (the write path, ``UserCache.rename``) so that, whatever the
interleaving of readers and writers on any number of app servers (``UserCache`` instances sharing
one Redis), once a rename has returned every later read returns the new name.

* Read path: a hit returns the cached row without touching the database. On a miss, read the row
  with ``cache.fetch(user_id)`` (``None``: no such user, do not cache it), then call
  ``cache.after_fetch()`` — the grader pauses readers there — and only then store the row, under
  keys starting with ``cache.key(user_id)``, with ``cache.ttl_ms`` milliseconds to live.
* Write path: ``update_user_name(cache.engine, user_id, name)`` commits the new name (it returns only
  once committed; if the commit fails it raises, and the cache must not claim the new name).
* ``cache.key`` raises ``ValueError`` for a hostile id (NUL, oversize): call it before anything else.

One design that works (there are others): keep a generation counter in Redis beside the data, bump
it after the commit, and let a reader store what it read only if the generation has not moved since
it looked — a ``WATCH``/``MULTI`` transaction or a Lua script makes that check-and-set atomic.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import redis
from sqlalchemy import Engine

from reference.caching.aside import check_key, user_fetcher
from reference.caching.invalidation import update_user_name

__all__ = ["UserCache", "cached_user", "rename_user", "update_user_name"]


class UserCache:
    """One app server's view of the user cache (many may share one Redis)."""

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

    def key(self, user_id: str) -> str:
        return f"{self.namespace}:{check_key(user_id)}"

    def get(self, user_id: str) -> dict[str, Any] | None:
        return cached_user(self, user_id)

    def rename(self, user_id: str, name: str) -> None:
        rename_user(self, user_id, name)


def cached_user(cache: UserCache, user_id: str) -> dict[str, Any] | None:
    """The user's row (a dict, as ``cache.fetch`` returns it) or ``None``, cached in Redis."""
    # TODO: a hit returns the cached row; on a miss fetch, call cache.after_fetch(), then store the
    # row only if no rename committed since you looked (remember what you saw BEFORE the fetch).
    key = cache.key(user_id)
    gen, data, data_gen = cache.client.hmget(key, ["gen", "data", "data_gen"])
    if data is not None and data_gen == gen:
        cached: dict[str, Any] = json.loads(data)
        return cached
    user = cache.fetch(user_id)  # read AFTER noting the generation: the fill is checked against it
    cache.after_fetch()
    if user is not None:
        # Optimistic transaction: EXEC fails if a rename bumped the generation since WATCH, and
        # the HGET under WATCH catches one that happened between the HMGET above and the WATCH.
        with cache.client.pipeline() as pipe:
            try:
                pipe.watch(key)  # type: ignore[no-untyped-call]  # redis-py leaves it untyped
                if pipe.hget(key, "gen") == gen:
                    seen = gen or "0"
                    pipe.multi()
                    pipe.hset(
                        key, mapping={"gen": seen, "data": json.dumps(user), "data_gen": seen}
                    )
                    pipe.pexpire(key, cache.ttl_ms)
                    pipe.execute()
            except redis.WatchError:
                pass  # a rename landed meanwhile: what we read may be old, so store nothing
    return user


def rename_user(cache: UserCache, user_id: str, name: str) -> None:
    """Commit the new name, then make sure no reader can serve (or store) the old row as current."""
    # TODO: update_user_name(...) first; invalidate only after it returned (the commit is done).
    key = cache.key(user_id)
    update_user_name(cache.engine, user_id, name)
    with cache.client.pipeline(transaction=True) as pipe:
        pipe.hincrby(key, "gen", 1)
        pipe.pexpire(key, cache.ttl_ms)
        pipe.execute()
