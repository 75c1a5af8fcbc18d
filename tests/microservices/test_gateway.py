"""The reference gateway (reference/microservices/gateway.py) in a real Envoy in front of a real flaky
upstream: every property is shown by what reached the upstream (its hit log) and what the client got.

One Envoy per module (its rate-limit buckets are per ``sub``: each test uses its own consumers).
"""

from __future__ import annotations

import math
import socket
import time
import uuid
from collections.abc import Iterator

import httpx
import jwt
import pytest

from course.testing.gateway import (
    ISSUER,
    bearer,
    edge,
    gateway_issuer,
    refill_allowance,
    settle,
    until_limited,
)
from reference.auth.tokens import TokenIssuer
from reference.microservices.envoy import RunningEnvoy, throwaway_envoy
from reference.microservices.flaky import FlakyUpstream, serve_flaky
from reference.microservices.gateway import (
    bootstrap,
    cluster,
    fault,
    jwt_authn,
    per_consumer_limit,
    user_routes,
)
from reference.setup.ports import free_port

TIMEOUT_S = 1.0


@pytest.fixture(scope="module")
def gateway(flaky_server: FlakyUpstream, issuer: TokenIssuer) -> Iterator[RunningEnvoy]:
    jwt_config = jwt_authn(ISSUER, issuer.audience, issuer.keys.jwks())
    with edge(flaky_server.url, user_routes("users", timeout_s=TIMEOUT_S), jwt_config) as running:
        yield running


@pytest.fixture
def client(gateway: RunningEnvoy) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=gateway.url, timeout=10) as c:
        yield c


def consumer() -> str:
    return f"user-{uuid.uuid4().hex[:8]}"


def test_the_prefix_reaches_the_service_as_declared(
    client: httpx.Client, flaky: FlakyUpstream, issuer: TokenIssuer
) -> None:
    token = issuer.access_token(consumer(), [])
    for path in ("/api/v1/users", "/api/v1/users/42", "/api/v1/users/42/orders?page=2"):
        assert client.get(path, headers=bearer(token)).status_code == 200
    assert [hit.path for hit in flaky.log()] == [
        "/api/v1/users",
        "/api/v1/users/42",
        "/api/v1/users/42/orders",
    ]


def test_a_lookalike_prefix_is_not_routed(
    client: httpx.Client, flaky: FlakyUpstream, issuer: TokenIssuer
) -> None:
    token = issuer.access_token(consumer(), [])
    for path in ("/api/v1/usersX", "/api/v1/users-admin", "/api/v1/user", "/"):
        assert client.get(path, headers=bearer(token)).status_code == 404, path
    assert flaky.hits() == 0


def test_health_is_public(client: httpx.Client, flaky: FlakyUpstream) -> None:
    assert client.get("/health").status_code == 200
    assert flaky.hits("/health") == 1


def forged_tokens(issuer: TokenIssuer) -> dict[str, str]:
    """Tokens the gateway must refuse, each for one reason."""
    sub = consumer()
    stranger = gateway_issuer()  # same issuer name and audience, another key
    expired = TokenIssuer(issuer.keys, ISSUER, issuer.audience, clock=lambda: time.time() - 3600)
    wrong_iss = TokenIssuer(issuer.keys, "https://evil.example", issuer.audience)
    wrong_aud = TokenIssuer(issuer.keys, ISSUER, "another-api")
    good = issuer.access_token(sub, [])
    header, payload, signature = good.split(".")
    unsigned = jwt.encode({"sub": sub, "iss": ISSUER, "aud": issuer.audience}, "", "none")
    return {
        "another key": stranger.access_token(sub, []),
        "expired an hour ago": expired.access_token(sub, []),
        "wrong issuer": wrong_iss.access_token(sub, []),
        "wrong audience": wrong_aud.access_token(sub, []),
        "alg none": unsigned,
        "tampered payload": f"{header}.{payload[:-4]}AAAA.{signature}",
        "garbage": "not-a-jwt",
        "three empty parts": "..",
    }


def test_bad_tokens_never_reach_the_upstream(
    client: httpx.Client, flaky: FlakyUpstream, issuer: TokenIssuer
) -> None:
    for reason, token in forged_tokens(issuer).items():
        response = client.get("/api/v1/users/1", headers=bearer(token))
        # Envoy answers 403 for a verified token meant for another audience, 401 otherwise.
        assert response.status_code == (403 if reason == "wrong audience" else 401), reason
    assert client.get("/api/v1/users/1").status_code == 401  # no token at all
    assert flaky.hits() == 0


def test_a_consumer_s_burst_stops_at_100_a_minute(
    client: httpx.Client, flaky: FlakyUpstream, issuer: TokenIssuer
) -> None:
    sub = consumer()
    alice, bob = issuer.access_token(sub, []), issuer.access_token(consumer(), [])
    passed, seconds = until_limited(client, "/api/v1/users", bearer(alice))
    # A token bucket refilled continuously (100/60 s): a slow burst may pass a few more than 100.
    assert 100 <= passed <= 100 + refill_allowance(seconds)
    assert flaky.hits() == passed
    # Per consumer: another subject has its own bucket; a forged client header changes nothing.
    assert client.get("/api/v1/users", headers=bearer(bob)).status_code == 200
    spoof = {**bearer(alice), "x-forwarded-for": "198.51.100.1", "x-consumer": "someone-else"}
    assert client.get("/api/v1/users", headers=spoof).status_code == 429
    # The key is the subject, not the token: logging in again does not reset the bucket.
    relogin = issuer.access_token(sub, [])
    assert client.get("/api/v1/users", headers=bearer(relogin)).status_code == 429


def test_client_forwarded_for_is_not_trusted(
    client: httpx.Client, flaky: FlakyUpstream, issuer: TokenIssuer
) -> None:
    token = issuer.access_token(consumer(), [])
    spoof = {
        **bearer(token),
        "x-forwarded-for": "203.0.113.7",
        "x-envoy-external-address": "1.2.3.4",
    }
    assert client.get("/api/v1/users/1", headers=spoof).status_code == 200
    (hit,) = flaky.log()
    assert hit.headers["x-forwarded-for"] == "127.0.0.1"
    assert hit.headers["x-envoy-external-address"] == "127.0.0.1"


def test_request_ids_are_made_at_the_edge_and_propagated(
    client: httpx.Client, gateway: RunningEnvoy, flaky: FlakyUpstream, issuer: TokenIssuer
) -> None:
    token = issuer.access_token(consumer(), [])
    response = client.get("/api/v1/users/7", headers={**bearer(token), "x-request-id": "chosen"})
    request_id = response.headers["x-request-id"]
    assert request_id != "chosen"
    assert str(uuid.UUID(request_id)) == request_id
    (hit,) = flaky.log()
    assert hit.headers["x-request-id"] == request_id
    deadline = time.monotonic() + 10  # the access log is flushed every 50 ms
    while not any(line["request_id"] == request_id for line in gateway.access_log_lines()):
        assert time.monotonic() < deadline, "the request id never reached the access log"
        time.sleep(0.05)


def test_an_upstream_timeout_is_a_504(
    client: httpx.Client, flaky: FlakyUpstream, issuer: TokenIssuer
) -> None:
    token = issuer.access_token(consumer(), [])
    flaky.set_faults(hang=True)
    response = client.post("/api/v1/users", headers=bearer(token))
    settle(flaky)
    assert response.status_code == 504
    assert flaky.hits() == 1


def test_only_idempotent_methods_are_retried(
    client: httpx.Client, flaky: FlakyUpstream, issuer: TokenIssuer
) -> None:
    token = issuer.access_token(consumer(), [])
    flaky.set_faults(statuses=[503, 503])
    assert client.get("/api/v1/users/1", headers=bearer(token)).status_code == 200
    assert flaky.hits(method="GET") == 3
    flaky.set_faults(statuses=[503, 503])
    assert client.post("/api/v1/users", headers=bearer(token)).status_code == 503
    assert flaky.hits(method="POST") == 1


def test_hostile_requests_are_refused_before_the_upstream(
    client: httpx.Client, flaky: FlakyUpstream, issuer: TokenIssuer
) -> None:
    token = issuer.access_token(consumer(), [])
    huge = {**bearer(token), "x-padding": "a" * 100_000}
    assert client.get("/api/v1/users/1", headers=huge).status_code == 431
    assert (
        client.get("/api/v1/users/1", headers={"authorization": "Bearer " + "A" * 9000}).status_code
        == 401
    )
    assert client.get("/api/v1/users/1", headers={"authorization": "Basic YTpi"}).status_code == 401
    assert flaky.hits() == 0


@pytest.mark.parametrize("bad", [math.nan, -1, 0, math.inf, 1e9, "2s", True])
def test_the_builder_refuses_hostile_numbers(bad: object) -> None:
    with pytest.raises(ValueError, match="timeout_s"):
        user_routes("users", timeout_s=bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="per_minute"):
        per_consumer_limit(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "bad",
    [
        {"percent": 101},
        {"percent": -1},
        {"abort_status": 99},
        {"abort_status": 700},
        {"delay_ms": -5},
        {"delay_ms": 1.5},
        {"abort_status": True},
    ],
)
def test_fault_settings_are_checked(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="must be"):
        fault(**bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("url", ["ftp://127.0.0.1:21", "http://127.0.0.1", "127.0.0.1:80", ""])
def test_upstream_urls_are_checked(url: str) -> None:
    with pytest.raises(ValueError, match="http://host:port"):
        cluster("users", [url])


def test_a_dead_upstream_is_a_503_not_a_hang(dead_url: str, issuer: TokenIssuer) -> None:
    jwt_config = jwt_authn(ISSUER, issuer.audience, issuer.keys.jwks())
    with edge(dead_url, user_routes("users", timeout_s=TIMEOUT_S), jwt_config) as running:
        token = issuer.access_token(consumer(), [])
        response = httpx.get(f"{running.url}/api/v1/users/1", headers=bearer(token), timeout=10)
    assert response.status_code == 503


def test_the_fault_filter_injects_aborts_and_delays_at_the_gateway(flaky: FlakyUpstream) -> None:
    routes = [
        {
            "name": "aborted",
            "match": {"prefix": "/aborted"},
            "route": {"cluster": "users"},
            "typed_per_filter_config": {"envoy.filters.http.fault": fault(abort_status=503)},
        },
        {
            "name": "delayed",
            "match": {"prefix": "/delayed"},
            "route": {"cluster": "users"},
            "typed_per_filter_config": {"envoy.filters.http.fault": fault(delay_ms=50)},
        },
    ]
    with edge(flaky.url, routes, None, with_fault=True) as running:
        assert httpx.get(f"{running.url}/aborted").status_code == 503
        assert flaky.hits("/aborted") == 0  # aborted at the gateway: the service never saw it
        assert httpx.get(f"{running.url}/delayed").status_code == 200
        assert flaky.hits("/delayed") == 1
        stats = running.stats("http.gateway.fault.")
    assert stats["http.gateway.fault.aborts_injected"] == 1
    assert stats["http.gateway.fault.delays_injected"] == 1


def test_outlier_detection_ejects_the_failing_host(flaky: FlakyUpstream) -> None:
    routes = [{"name": "pool", "match": {"prefix": "/"}, "route": {"cluster": "pool"}}]
    with serve_flaky(default_status=503) as broken:
        pool = cluster("pool", [flaky.url, broken.url], outlier=True)
        with edge(flaky.url, routes, None, clusters=[pool]) as running:
            # Round robin: the broken host gets every other request until its third 5xx in a row.
            for _ in range(8):
                httpx.post(f"{running.url}/work")
            ejected_after = broken.hits()
            assert ejected_after == 3
            statuses = {httpx.post(f"{running.url}/work").status_code for _ in range(20)}
            assert statuses == {200}
            assert broken.hits() == ejected_after
            stats = running.stats("cluster.pool.outlier_detection.")
    assert stats["cluster.pool.outlier_detection.ejections_enforced_consecutive_5xx"] == 1


def test_a_configuration_envoy_rejects_is_a_clear_error(flaky: FlakyUpstream) -> None:
    bad_route = {"match": {"prefix": "/"}, "route": {"cluster": "users", "strip_path": True}}
    with (
        pytest.raises(ValueError, match="Envoy rejected the configuration"),
        edge(flaky.url, [bad_route], None),
    ):
        pass
    assert free_port()  # nothing left bound


def test_an_envoy_that_cannot_bind_is_a_clear_error(flaky: FlakyUpstream) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        admin = free_port()
        config = bootstrap(
            port=taken.getsockname()[1],
            admin_port=admin,
            routes=[],
            clusters=[cluster("users", [flaky.url])],
            jwt=None,
        )
        with (
            pytest.raises(RuntimeError, match="Envoy exited with status"),
            throwaway_envoy(config, admin_port=admin),
        ):
            pass
