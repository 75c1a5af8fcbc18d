"""The bearer principal (RFC 6750 parsing, HMAC tokens) and the Redis fixed-window rate limit."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
import redis
from fastapi import FastAPI
from fastapi.testclient import TestClient

from reference.api_design.auth import HmacTokens, Principal, parse_bearer
from reference.api_design.problems import TooManyRequests
from reference.api_design.ratelimit import FixedWindowLimiter, RateLimit
from reference.api_design.seed import Cast
from reference.config import Settings
from reference.databases.models import UserRole


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer abc.def", "abc.def"),
        ("bearer abc", "abc"),
        ("BEARER  abc=", "abc="),
        ("Basic dXNlcjpwYXNz", None),
        ("Bearer", None),
        ("Bearer ", None),
        ("Bearer a b", None),
        ("Token: abc", None),
        ("", None),
    ],
)
def test_parse_bearer_follows_rfc_6750(header: str, token: str | None) -> None:
    assert parse_bearer(header) == token


def test_hmac_tokens_round_trip_and_refuse_tampering() -> None:
    tokens = HmacTokens(b"k" * 32)
    principal = Principal(uuid.uuid4(), UserRole.MANAGER)
    token = tokens.issue(principal)
    assert tokens(token) == principal
    payload, _, signature = token.partition(".")
    assert tokens(payload + "." + signature[:-2] + "AA") is None
    forged = HmacTokens(b"x" * 32).issue(Principal(principal.user_id, UserRole.ADMIN))
    assert tokens(forged) is None
    assert tokens("not-a-token") is None
    with pytest.raises(ValueError, match="32 bytes"):
        HmacTokens(b"short")


@pytest.mark.parametrize(
    ("role", "admin", "staff"),
    [(UserRole.USER, False, False), (UserRole.MANAGER, False, True), (UserRole.ADMIN, True, True)],
)
def test_principal_roles(role: UserRole, admin: bool, staff: bool) -> None:
    """Staff (the GraphQL schema's "yourself, or staff") is admins and managers."""
    principal = Principal(uuid.uuid4(), role)
    assert (principal.is_admin, principal.is_staff) == (admin, staff)


def test_hmac_tokens_plug_into_the_app(make_app: Callable[..., FastAPI], cast: Cast) -> None:
    tokens = HmacTokens(b"s" * 32)
    alice = cast.principals["alice"]
    with TestClient(make_app(authenticator=tokens)) as client:
        good = {"Authorization": f"Bearer {tokens.issue(alice)}"}
        assert client.get(f"/users/{alice.user_id}", headers=good).status_code == 200
        assert (
            client.get(f"/users/{alice.user_id}", headers=cast.headers("alice")).status_code == 401
        )


def test_limit_is_per_principal_and_counts_in_redis(
    settings: Settings, redis_client: redis.Redis, redis_prefix: str
) -> None:
    limiter = FixedWindowLimiter(
        RateLimit(settings.redis_url, limit=3, window_seconds=3600, prefix=redis_prefix)
    )
    alice, bob = Principal(uuid.uuid4(), UserRole.USER), Principal(uuid.uuid4(), UserRole.USER)
    assert [limiter.hit(alice) for _ in range(3)] == [1, 2, 3]
    with pytest.raises(TooManyRequests) as raised:
        limiter.hit(alice)
    retry_after = int(raised.value.problem.headers["Retry-After"])
    assert 1 <= retry_after <= 3600
    assert limiter.hit(bob) == 1, "another principal has a budget of its own"
    keys = list(redis_client.scan_iter(match=f"{redis_prefix}rl:*"))
    assert len(keys) == 2
    assert all(0 < redis_client.ttl(key) <= 3600 for key in keys), "every counter expires"
    limiter.close()


def test_concurrent_hits_never_lose_a_count(settings: Settings, redis_prefix: str) -> None:
    import threading

    limiter = FixedWindowLimiter(
        RateLimit(settings.redis_url, limit=1000, window_seconds=3600, prefix=redis_prefix)
    )
    principal = Principal(uuid.uuid4(), UserRole.USER)
    seen: list[int] = []
    lock = threading.Lock()

    def hammer() -> None:
        for _ in range(25):
            count = limiter.hit(principal)
            with lock:
                seen.append(count)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(seen) == list(range(1, 201))
    limiter.close()
