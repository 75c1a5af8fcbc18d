"""Decoy for 06.2: a per-process dict, cleared on this process's renames — other app servers keep the old row. Caught by test_app_servers_share_the_cache_and_see_each_others_renames."""

from __future__ import annotations

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
        self.local: dict[str, dict[str, Any] | None] = {}

    def key(self, user_id: str) -> str:
        return f"{self.namespace}:{check_key(user_id)}"

    def get(self, user_id: str) -> dict[str, Any] | None:
        return cached_user(self, user_id)

    def rename(self, user_id: str, name: str) -> None:
        rename_user(self, user_id, name)


def cached_user(cache: UserCache, user_id: str) -> dict[str, Any] | None:
    key = cache.key(user_id)
    if key in cache.local:
        return cache.local[key]
    user = cache.fetch(user_id)
    cache.after_fetch()
    if key not in cache.local:
        cache.local[key] = user
    return user


def rename_user(cache: UserCache, user_id: str, name: str) -> None:
    key = cache.key(user_id)
    update_user_name(cache.engine, user_id, name)
    cache.local.pop(key, None)
