"""Decoy for 06.2: commit, then SET the new row (write-through) — a reader holding the old row overwrites it. Caught by test_reader_holding_the_old_row_while_a_rename_commits_cannot_cache_it."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import redis
from sqlalchemy import Engine

from reference.caching.aside import check_key, user_fetcher
from reference.caching.invalidation import update_user_name


class UserCache:
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
    key = cache.key(user_id)
    raw = cache.client.get(key)
    if raw is not None:
        cached: dict[str, Any] = json.loads(raw)
        return cached
    user = cache.fetch(user_id)
    cache.after_fetch()
    if user is not None:
        cache.client.set(key, json.dumps(user), px=cache.ttl_ms)
    return user


def rename_user(cache: UserCache, user_id: str, name: str) -> None:
    key = cache.key(user_id)
    update_user_name(cache.engine, user_id, name)
    row = cache.fetch(user_id)
    if row is not None:
        cache.client.set(key, json.dumps(row), px=cache.ttl_ms)
