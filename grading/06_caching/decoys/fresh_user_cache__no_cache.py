"""Decoy for 06.2: never caches (always fresh, trivially). Caught by test_reads_are_cached_and_a_rename_shows_at_once."""

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

    def key(self, user_id: str) -> str:
        return f"{self.namespace}:{check_key(user_id)}"

    def get(self, user_id: str) -> dict[str, Any] | None:
        return cached_user(self, user_id)

    def rename(self, user_id: str, name: str) -> None:
        rename_user(self, user_id, name)


def cached_user(cache: UserCache, user_id: str) -> dict[str, Any] | None:
    cache.key(user_id)
    user = cache.fetch(user_id)
    cache.after_fetch()
    return user


def rename_user(cache: UserCache, user_id: str, name: str) -> None:
    cache.key(user_id)
    update_user_name(cache.engine, user_id, name)
