"""The bearer principal (RFC 6750 parsing, the course's JWTs behind the seam) and the Redis
fixed-window rate limit."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
import redis
from fastapi import FastAPI
from fastapi.testclient import TestClient

from reference.api_design.auth import Principal, parse_bearer
from reference.api_design.problems import TooManyRequests
from reference.api_design.ratelimit import FixedWindowLimiter, RateLimit
from reference.api_design.seed import Cast
from reference.auth.authenticator import JwtAuthenticator, access_token_for
from reference.auth.keys import KeyRing, generate_key
from reference.auth.tokens import TokenIssuer
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


@pytest.mark.parametrize(
    ("role", "admin", "staff"),
    [(UserRole.USER, False, False), (UserRole.MANAGER, False, True), (UserRole.ADMIN, True, True)],
)
def test_principal_roles(role: UserRole, admin: bool, staff: bool) -> None:
    """Staff (the GraphQL schema's "yourself, or staff") is admins and managers."""
    principal = Principal(uuid.uuid4(), role)
    assert (principal.is_admin, principal.is_staff) == (admin, staff)


@pytest.mark.parametrize("role", list(UserRole))
def test_course_tokens_carry_the_principal_both_ways(role: UserRole) -> None:
    """``access_token_for`` and the authenticator agree: each role comes back as itself."""
    issuer = TokenIssuer(KeyRing(generate_key()), "https://auth.course.test", "course-api")
    principal = Principal(uuid.uuid4(), role)
    assert JwtAuthenticator.of(issuer)(access_token_for(issuer, principal)) == principal


def test_course_tokens_plug_into_the_rest_app(make_app: Callable[..., FastAPI], cast: Cast) -> None:
    """The course's own EdDSA tokens through the REST seam: a valid one is the caller; another
    issuer's key, a tampered signature or a token the authenticator does not know is a 401 problem
    with a ``WWW-Authenticate: Bearer`` challenge — chapter 01's answer, unchanged."""
    issuer = TokenIssuer(KeyRing(generate_key()), "https://auth.course.test", "course-api")
    stranger = TokenIssuer(KeyRing(generate_key()), issuer.issuer, issuer.audience)
    alice = cast.principals["alice"]
    good = access_token_for(issuer, alice)
    refused = {
        "another key": access_token_for(stranger, alice),
        "tampered": good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB"),
        "a static token": cast.token("alice"),
    }
    with TestClient(make_app(authenticator=JwtAuthenticator.of(issuer))) as client:
        ok = client.get(f"/users/{alice.user_id}", headers={"Authorization": f"Bearer {good}"})
        assert ok.status_code == 200
        assert ok.json()["data"]["id"] == str(alice.user_id)
        for what, token in refused.items():
            response = client.get(
                f"/users/{alice.user_id}", headers={"Authorization": f"Bearer {token}"}
            )
            assert response.status_code == 401, what
            assert response.headers["content-type"] == "application/problem+json", what
            challenge = response.headers["www-authenticate"]
            assert challenge.startswith("Bearer "), what
            assert 'error="invalid_token"' in challenge, what


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
