"""The guide's kong.yml: Kong would refuse it (no ``_format_version``); translated to Envoy as Kong
would run it, every request is a 401 (a jwt plugin without consumers); with a consumer declared, the
upstream sees ``/`` (``strip_path`` defaults to true) and ``/api/v1/usersX`` is routed too.
The same requests through the reference gateway are in tests/microservices/test_gateway.py."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from course.testing.gateway import ISSUER, bearer, edge
from guide.microservices.kong import KongConfigError, load, translate, validate_declarative
from reference.auth.tokens import TokenIssuer
from reference.microservices.envoy import RunningEnvoy
from reference.microservices.flaky import FlakyUpstream


def test_kong_would_refuse_the_guide_s_file() -> None:
    document = load()
    with pytest.raises(KongConfigError, match="_format_version: required field missing"):
        validate_declarative(document)
    with pytest.raises(KongConfigError, match="expected one of"):
        validate_declarative({**document, "_format_version": "9"})
    # With the version added, the next refusal: policy redis without a Redis host.
    versioned = {"_format_version": "3.0", **load()}
    with pytest.raises(KongConfigError, match=r"config\.redis\.host"):
        validate_declarative(versioned)
    (plugin,) = [p for p in versioned["services"][0]["plugins"] if p["name"] == "rate-limiting"]
    plugin["config"]["redis"] = {"host": "redis"}
    validate_declarative(versioned)


@pytest.fixture(scope="module")
def as_written(flaky_server: FlakyUpstream) -> Iterator[RunningEnvoy]:
    routes, jwt, clusters = translate(load(), {"user-service": flaky_server.url})
    with edge(flaky_server.url, routes, jwt, clusters=clusters) as running:
        yield running


def test_without_consumers_every_request_is_a_401(
    as_written: RunningEnvoy, flaky: FlakyUpstream, issuer: TokenIssuer
) -> None:
    token = issuer.access_token("alice", [])
    for headers in ({}, bearer(token)):
        for path in ("/api/v1/users", "/api/v1/users/42"):
            assert httpx.get(f"{as_written.url}{path}", headers=headers).status_code == 401
    assert flaky.hits() == 0


def test_with_a_consumer_the_upstream_sees_the_prefix_stripped(
    flaky: FlakyUpstream, issuer: TokenIssuer
) -> None:
    routes, jwt, clusters = translate(
        load(), {"user-service": flaky.url}, consumer_jwks=issuer.keys.jwks(), issuer=ISSUER
    )
    token = issuer.access_token("alice", [])
    with edge(flaky.url, routes, jwt, clusters=clusters) as running:
        for path in ("/api/v1/users", "/api/v1/users/42", "/api/v1/usersX"):
            assert httpx.get(f"{running.url}{path}", headers=bearer(token)).status_code == 200
    # strip_path: the service was written for /api/v1/users and got /; the lookalike got through.
    assert [hit.path for hit in flaky.log()] == ["/", "/42", "/X"]
