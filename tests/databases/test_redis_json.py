"""JSON helpers: the guide's port confuses null with a miss and treats ttl=0 as forever.

Defects of guide §2.5 (see /work/shared/seed/guide-defects.md), each shown on the port and fixed in
``reference.databases.redis.json_cache``.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import redis

from guide.databases.redis_service import RedisService, make_client
from reference.config import Settings
from reference.databases.redis import MISSING, connect, get_json, set_json

FALSY_VALUES = [0, "", False, [], {}, None, 0.0]


@pytest.mark.parametrize("value", FALSY_VALUES, ids=repr)
def test_reference_returns_stored_falsy_values_as_stored(
    redis_client: redis.Redis, redis_prefix: str, value: object
) -> None:
    key = f"{redis_prefix}v"
    set_json(redis_client, key, value)
    got = get_json(redis_client, key)
    assert got is not MISSING
    assert got == value
    assert type(got) is type(value)


def test_reference_miss_is_the_missing_sentinel_not_none(
    redis_client: redis.Redis, redis_prefix: str
) -> None:
    assert get_json(redis_client, f"{redis_prefix}absent") is MISSING
    set_json(redis_client, f"{redis_prefix}null", None)
    assert get_json(redis_client, f"{redis_prefix}null") is None
    assert not MISSING  # falsy, but never equal to a stored value
    assert MISSING != None  # noqa: E711
    assert repr(MISSING) == "MISSING"


def test_guide_port_cannot_tell_a_stored_null_from_a_miss(
    redis_client: redis.Redis, redis_prefix: str
) -> None:
    service = RedisService(redis_client, key_prefix=redis_prefix)
    service.set_json("null", None)
    assert service.get_json("null") is None
    assert service.get_json("absent") is None  # the same answer: a cached "no value" is a miss


@pytest.mark.parametrize("ttl", [0, -1, 0.0, -0.5, timedelta(0), timedelta(seconds=-3)], ids=repr)
def test_reference_refuses_a_ttl_that_is_not_positive(
    redis_client: redis.Redis, redis_prefix: str, ttl: float | timedelta
) -> None:
    key = f"{redis_prefix}ttl"
    with pytest.raises(ValueError, match="ttl must be a positive number"):
        set_json(redis_client, key, {"a": 1}, ttl=ttl)
    assert redis_client.exists(key) == 0  # nothing written


def test_reference_refuses_bool_and_nan(redis_client: redis.Redis, redis_prefix: str) -> None:
    client = redis_client
    with pytest.raises(TypeError, match="not a bool"):
        set_json(client, f"{redis_prefix}x", 1, ttl=True)
    with pytest.raises(ValueError, match="Out of range float"):
        set_json(client, f"{redis_prefix}x", float("nan"))


def test_reference_positive_ttl_expires(redis_client: redis.Redis, redis_prefix: str) -> None:
    key = f"{redis_prefix}short"
    set_json(redis_client, key, 1, ttl=0.5)
    assert 0 < redis_client.pttl(key) <= 500
    set_json(redis_client, f"{redis_prefix}td", 1, ttl=timedelta(minutes=2))
    assert 60_000 < redis_client.pttl(f"{redis_prefix}td") <= 120_000
    set_json(redis_client, f"{redis_prefix}forever", 1)
    assert redis_client.pttl(f"{redis_prefix}forever") == -1


def test_guide_port_ttl_zero_means_never_expire(
    redis_client: redis.Redis, redis_prefix: str
) -> None:
    service = RedisService(redis_client, key_prefix=redis_prefix)
    service.set_json("session", {"user": 1}, 0)  # the caller meant "expire now"
    assert redis_client.pttl(f"{redis_prefix}session") == -1  # -1: no expiry at all


def test_reference_non_json_value_is_an_error_not_a_miss(
    redis_client: redis.Redis, redis_prefix: str
) -> None:
    redis_client.set(f"{redis_prefix}raw", "not json {")
    with pytest.raises(ValueError, match="does not hold JSON"):
        get_json(redis_client, f"{redis_prefix}raw")


def test_guide_client_is_hard_coded_to_6379_without_password() -> None:
    kwargs = make_client().connection_pool.connection_kwargs
    assert kwargs["port"] == 6379
    assert kwargs.get("password") is None


def test_reference_client_takes_port_password_and_tls_from_the_url(settings: Settings) -> None:
    client = connect()
    assert client.ping() is True  # the course server refuses clients without the password
    kwargs = client.connection_pool.connection_kwargs
    configured = urlsplit(settings.redis_url)
    assert (kwargs["port"], kwargs["password"]) == (configured.port, configured.password)
    tls = connect("rediss://:secret@example.invalid:6380/0")
    assert tls.connection_pool.connection_class is redis.SSLConnection
    assert tls.connection_pool.connection_kwargs["port"] == 6380
