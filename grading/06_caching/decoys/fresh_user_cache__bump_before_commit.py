"""Decoy for 06.2: generation-guarded fills, but the generation is bumped before the commit — a read during the commit fills the old row at the new generation. Caught by test_a_read_while_the_rename_is_committing_cannot_cache_the_old_row."""

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
    gen, data, data_gen = cache.client.hmget(key, ["gen", "data", "data_gen"])
    if data is not None and data_gen == gen:
        cached: dict[str, Any] = json.loads(data)
        return cached
    user = cache.fetch(user_id)
    cache.after_fetch()
    if user is not None:
        fill = cache.client.register_script(
            "if (redis.call('HGET', KEYS[1], 'gen') or '0') ~= ARGV[1] then return 0 end "
            "redis.call('HSET', KEYS[1], 'gen', ARGV[1], 'data', ARGV[2], 'data_gen', ARGV[1]) "
            "return redis.call('PEXPIRE', KEYS[1], ARGV[3])"
        )
        fill(keys=[key], args=[gen or "0", json.dumps(user), cache.ttl_ms])
    return user


def rename_user(cache: UserCache, user_id: str, name: str) -> None:
    key = cache.key(user_id)
    cache.client.hincrby(key, "gen", 1)
    cache.client.pexpire(key, cache.ttl_ms)
    update_user_name(cache.engine, user_id, name)
