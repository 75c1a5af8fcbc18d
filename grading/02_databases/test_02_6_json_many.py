"""Grading for exercise 02.6: many JSON values at once, falsy ones kept (exercises/02_databases/json_many.py)."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest
import redis

from reference.config import Settings
from reference.databases.redis import set_json

FALSY = {"zero": 0, "empty": "", "false": False, "list": [], "null": None, "dict": {}, "float": 0.0}


def test_falsy_values_come_back_as_stored(
    exercise: ModuleType, redis_client: redis.Redis, redis_prefix: str
) -> None:
    """0, "", False, [], None, {} and 0.0 are values, not misses: every one of them must be in the
    result, equal to what was stored and of the same type (False is not 0)."""
    keys = [redis_prefix + name for name in FALSY]
    for key, value in zip(keys, FALSY.values(), strict=True):
        set_json(redis_client, key, value)
    got = exercise.get_many_json(redis_client, keys)
    lost = [name for name in FALSY if redis_prefix + name not in got]
    assert not lost, f"stored values treated as misses: {lost}"
    assert got == dict(zip(keys, FALSY.values(), strict=True))
    assert [type(got[k]) for k in keys] == [type(v) for v in FALSY.values()]


def test_missing_keys_are_left_out(
    exercise: ModuleType, redis_client: redis.Redis, redis_prefix: str
) -> None:
    """A key that does not exist has no entry at all (not an entry with None): with a stored null
    next to a missing key, only the stored one is in the result."""
    set_json(redis_client, redis_prefix + "null", None)
    set_json(redis_client, redis_prefix + "one", {"a": 1})
    keys = [redis_prefix + "null", redis_prefix + "absent", redis_prefix + "one"]
    got = exercise.get_many_json(redis_client, keys)
    assert redis_prefix + "null" in got, "a stored JSON null was treated as a miss"
    assert redis_prefix + "absent" not in got, "a key that does not exist has an entry"
    assert got == {redis_prefix + "null": None, redis_prefix + "one": {"a": 1}}
    assert exercise.get_many_json(redis_client, [redis_prefix + "absent"]) == {}


def test_no_keys_no_call(exercise: ModuleType, redis_client: redis.Redis) -> None:
    """An empty list of keys is an empty dict (MGET with no keys is an error in Redis)."""
    assert exercise.get_many_json(redis_client, []) == {}


class CountingRedis(redis.Redis):
    """A real client that also records the commands it sends one by one."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sent: list[str] = []

    def execute_command(self, *args: Any, **options: Any) -> Any:
        self.sent.append(str(args[0]))
        return super().execute_command(*args, **options)  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated


def test_one_round_trip(
    exercise: ModuleType, redis_client: redis.Redis, redis_prefix: str, settings: Settings
) -> None:
    """All the keys are read in one round trip (MGET), not one GET per key."""
    keys = [f"{redis_prefix}{i}" for i in range(20)]
    for i, key in enumerate(keys):
        set_json(redis_client, key, i)
    client = CountingRedis.from_url(settings.redis_url, decode_responses=True)
    assert isinstance(client, CountingRedis)  # from_url builds cls; its annotation says Redis
    try:
        got = exercise.get_many_json(client, keys)
    finally:
        client.close()
    assert got == {key: i for i, key in enumerate(keys)}
    assert len(client.sent) <= 1, f"{len(client.sent)} commands for 20 keys: use one MGET"


def test_non_json_is_an_error(
    exercise: ModuleType, redis_client: redis.Redis, redis_prefix: str
) -> None:
    """A key that holds something other than JSON is a bug to report (ValueError naming the key),
    not a value to skip."""
    redis_client.set(redis_prefix + "raw", "not json {")
    with pytest.raises(ValueError, match="raw"):
        exercise.get_many_json(redis_client, [redis_prefix + "raw"])
