"""Decoy for 06.2: the generation read after the database read — a rename in between is taken for the version of the old row. Caught by test_reader_holding_the_old_row_while_a_rename_commits_cannot_cache_it."""

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
    key = cache.key(user_id)
    gen, data, data_gen = cache.client.hmget(key, ["gen", "data", "data_gen"])
    if data is not None and data_gen == gen:
        cached: dict[str, Any] = json.loads(data)
        return cached
    user = cache.fetch(user_id)  # read AFTER noting the generation: the fill is checked against it
    cache.after_fetch()
    gen = cache.client.hget(key, "gen")
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
    key = cache.key(user_id)
    update_user_name(cache.engine, user_id, name)
    with cache.client.pipeline(transaction=True) as pipe:
        pipe.hincrby(key, "gen", 1)
        pipe.pexpire(key, cache.ttl_ms)
        pipe.execute()
