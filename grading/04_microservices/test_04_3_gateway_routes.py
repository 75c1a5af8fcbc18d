"""Grading for exercise 04.3: gateway routes (exercises/04_microservices/gateway_routes.py).

The learner's routes and ``jwt_authn`` config run in a real throwaway Envoy (the chapter's filter
chain and listener around them, ``course.testing.gateway.edge``) in front of the flaky upstream,
which logs every request that reaches it: each verdict is what the client got and what the service
saw. Tokens come from a fresh key ring (chapter 03's KeyRing) the learner never sees. Each test uses
consumers of its own; the cheap, discriminating checks come first.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from types import ModuleType

import httpx
import pytest

from course.testing.gateway import (
    AUDIENCE,
    ISSUER,
    bearer,
    edge,
    gateway_issuer,
    refill_allowance,
    settle,
    until_limited,
)
from reference.auth.tokens import TokenIssuer
from reference.microservices.envoy import RunningEnvoy
from reference.microservices.flaky import FlakyUpstream

TIMEOUT_S = 0.5


@pytest.fixture(scope="module")
def gateway(
    exercise: ModuleType, flaky_server: FlakyUpstream, issuer: TokenIssuer
) -> Iterator[RunningEnvoy]:
    routes = exercise.gateway_routes("users", TIMEOUT_S)
    jwt = exercise.jwt_authn(ISSUER, AUDIENCE, issuer.keys.jwks())
    with edge(flaky_server.url, routes, jwt) as running:
        yield running


@pytest.fixture
def client(gateway: RunningEnvoy) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=gateway.url, timeout=10) as c:
        yield c


def token(issuer: TokenIssuer) -> str:
    return issuer.access_token(f"user-{uuid.uuid4().hex[:8]}", [])


def test_the_path_reaches_the_service_unchanged(
    client: httpx.Client, flaky: FlakyUpstream, issuer: TokenIssuer
) -> None:
    """A valid token on /api/v1/users[/…] reaches the service with the path as sent (Kong's
    strip_path default sent `/`)."""
    auth = bearer(token(issuer))
    statuses = [
        client.get(p, headers=auth).status_code for p in ("/api/v1/users", "/api/v1/users/42")
    ]
    assert statuses == [200, 200]
    assert [hit.path for hit in flaky.log()] == ["/api/v1/users", "/api/v1/users/42"]


def test_a_lookalike_prefix_is_not_routed(
    client: httpx.Client, flaky: FlakyUpstream, issuer: TokenIssuer
) -> None:
    """/api/v1/usersX is another path, not the users API: 404 at the gateway."""
    auth = bearer(token(issuer))
    assert client.get("/api/v1/usersX", headers=auth).status_code == 404
    assert client.get("/api/v1/users-admin/1", headers=auth).status_code == 404
    assert flaky.hits() == 0


def test_health_is_public(client: httpx.Client, flaky: FlakyUpstream) -> None:
    """/health and nothing else: a public prefix would open /health/… and /healthz to anyone."""
    assert client.get("/health").status_code == 200
    for path in ("/health/internal", "/healthz"):
        assert client.get(path).status_code in (401, 403, 404), f"{path} is public"
    assert [hit.path for hit in flaky.log()] == ["/health"]


def test_bad_tokens_never_reach_the_service(
    client: httpx.Client, flaky: FlakyUpstream, issuer: TokenIssuer
) -> None:
    sub = f"user-{uuid.uuid4().hex[:8]}"
    forged = {
        "no token": None,
        "another key": gateway_issuer().access_token(sub, []),
        "expired": TokenIssuer(
            issuer.keys, ISSUER, AUDIENCE, clock=lambda: time.time() - 3600
        ).access_token(sub, []),
        "wrong issuer": TokenIssuer(issuer.keys, "https://evil.example", AUDIENCE).access_token(
            sub, []
        ),
        "wrong audience": TokenIssuer(issuer.keys, ISSUER, "another-api").access_token(sub, []),
        "garbage": "a.b.c",
    }
    for reason, forged_token in forged.items():
        headers = {} if forged_token is None else bearer(forged_token)
        for method in ("GET", "POST"):
            status = client.request(method, "/api/v1/users/1", headers=headers).status_code
            assert status in (401, 403), f"{reason}: {method} got {status}"
    assert flaky.hits() == 0


def test_the_101st_request_of_a_consumer_is_429(
    client: httpx.Client, flaky: FlakyUpstream, issuer: TokenIssuer
) -> None:
    """100 requests a minute per token subject: a burst passes 100 (plus what the bucket refilled
    while it was sent, under two a second), then 429s."""
    sub = f"user-{uuid.uuid4().hex[:8]}"
    alice, bob = bearer(issuer.access_token(sub, [])), bearer(token(issuer))
    passed, seconds = until_limited(client, "/api/v1/users", alice)
    assert passed >= 100, f"limited after {passed} requests, before 100"
    assert passed <= 100 + refill_allowance(seconds), f"{passed} passed in {seconds:.1f} s"
    assert flaky.hits() == passed
    # Per consumer: bob has his own 100; alice cannot escape by choosing a header …
    assert client.get("/api/v1/users", headers=bob).status_code == 200
    for header in ("x-consumer", "x-user-id", "x-forwarded-for", "x-real-ip"):
        spoofed = {**alice, header: f"fresh-{uuid.uuid4().hex[:6]}"}
        assert client.get("/api/v1/users", headers=spoofed).status_code == 429, header
    # … nor by logging in again: a new token for the same subject shares her bucket.
    relogin = bearer(issuer.access_token(sub, []))
    assert client.get("/api/v1/users", headers=relogin).status_code == 429, "keyed on the token"
    # … nor by waiting for 30 other consumers to push her bucket out of a too-small table of
    # buckets (max_dynamic_descriptors: an evicted consumer comes back with a full bucket).
    for _ in range(30):
        assert client.get("/api/v1/users", headers=bearer(token(issuer))).status_code == 200
    assert client.get("/api/v1/users", headers=alice).status_code == 429, (
        "her bucket was evicted by 30 other consumers: max_dynamic_descriptors is too small"
    )
    # 100 a minute, not a second: 1.5 s later only the refill (under two a second) passes.
    time.sleep(1.5)
    start = time.monotonic()
    later = [client.get("/api/v1/users", headers=alice).status_code for _ in range(20)]
    allowed = refill_allowance(1.5 + time.monotonic() - start)
    assert later.count(200) <= allowed, f"refilled faster than 100 a minute: {later}"


def test_only_get_and_head_are_retried(
    client: httpx.Client, flaky: FlakyUpstream, issuer: TokenIssuer
) -> None:
    auth = bearer(token(issuer))
    flaky.set_faults(statuses=[503, 503])
    assert client.post("/api/v1/users", headers=auth).status_code == 503
    assert flaky.hits(method="POST") == 1, "a POST was retried: it could charge twice"
    flaky.set_faults(statuses=[503, 503])
    assert client.get("/api/v1/users/1", headers=auth).status_code == 200
    assert flaky.hits(method="GET") == 3
    flaky.set_faults(statuses=[503, 503])
    assert client.head("/api/v1/users/1", headers=auth).status_code == 200
    assert flaky.hits(method="HEAD") == 3, "a HEAD is as safe to retry as a GET"
    for method in ("PUT", "DELETE", "PATCH"):  # GET and HEAD only, as the task says
        flaky.set_faults(statuses=[503, 503])
        assert client.request(method, "/api/v1/users/1", headers=auth).status_code == 503
        assert flaky.hits(method=method) == 1, f"a {method} was retried"


def test_a_hung_service_is_a_504(
    client: httpx.Client, flaky: FlakyUpstream, issuer: TokenIssuer
) -> None:
    flaky.set_faults(hang=True)
    try:
        response = client.post("/api/v1/users", headers=bearer(token(issuer)))
    finally:
        settle(flaky)
    assert response.status_code == 504


def test_the_timeout_is_timeout_s(
    exercise: ModuleType, flaky: FlakyUpstream, issuer: TokenIssuer
) -> None:
    """Another timeout_s than the module's gateway: a 1 s answer fits in 3 s (a route timeout
    hard-coded to 0.5 s gives a 504)."""
    routes = exercise.gateway_routes("users", 3.0)
    jwt = exercise.jwt_authn(ISSUER, AUDIENCE, issuer.keys.jwks())
    flaky.set_faults(latency=1.0)
    with edge(flaky.url, routes, jwt) as running, httpx.Client(timeout=10) as c:
        response = c.get(f"{running.url}/api/v1/users/1", headers=bearer(token(issuer)))
    assert response.status_code == 200, f"{response.status_code}: timeout_s=3 was not the timeout"
