"""Fixtures and helpers chapter 04's gateway tests and grading share (``tests/microservices/conftest.py``
and ``grading/04_microservices/conftest.py`` import them).

- :func:`gateway_issuer` / ``issuer``: a token issuer with a fresh Ed25519 key ring (chapter 03's
  :class:`~reference.auth.keys.KeyRing`); its JWKS is what the gateway verifies against.
- :func:`edge`: a throwaway Envoy (:mod:`reference.microservices.envoy`) whose routes and
  ``jwt_authn`` config are given — the reference's, the guide's translation or a learner's — in
  front of one upstream (cluster ``users``), with the chapter's filter chain around them.
- :func:`bearer`: the ``Authorization`` header for a token.
- :func:`until_limited` / :func:`refill_allowance`: a consumer's burst up to its first 429, and how
  many tokens Envoy's bucket (refilled continuously, 100 a minute) may have added meanwhile — so a
  loaded machine that sends the burst slowly never fails a correct limit.
- :func:`settle`: wait until every request that reached a flaky upstream has been answered — a hung
  request Envoy gave up on still consumes the upstream's next fault once released.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from reference.auth.keys import KeyRing, generate_key
from reference.auth.tokens import TokenIssuer
from reference.microservices.envoy import RunningEnvoy, throwaway_envoy
from reference.microservices.flaky import FlakyUpstream
from reference.microservices.gateway import Config, bootstrap, cluster
from reference.setup.ports import free_port

ISSUER = "https://users.course.test"
AUDIENCE = "course-gateway"


def gateway_issuer(issuer: str = ISSUER, **options: Any) -> TokenIssuer:
    """A token issuer with a fresh key ring (EdDSA), short-lived access tokens by default."""
    return TokenIssuer(KeyRing(generate_key("EdDSA")), issuer, AUDIENCE, **options)


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def until_limited(
    client: httpx.Client, path: str, headers: dict[str, str], most: int = 300
) -> tuple[int, float]:
    """GET ``path`` until the first 429 (at most ``most`` requests): (requests that passed, seconds)."""
    start = time.monotonic()
    for passed in range(most):
        if client.get(path, headers=headers).status_code == 429:
            return passed, time.monotonic() - start
    return most, time.monotonic() - start


def refill_allowance(seconds: float, per_minute: int = 100) -> int:
    """Tokens a continuously refilled bucket of ``per_minute`` adds in ``seconds`` (rounded up)."""
    return math.ceil(seconds * per_minute / 60) + 1


def settle(upstream: FlakyUpstream, deadline_s: float = 10.0) -> None:
    """Release hung requests and wait until each logged request has its answer."""
    upstream.release()
    deadline = time.monotonic() + deadline_s
    while any(hit.status == 0 for hit in upstream.log()):
        if time.monotonic() > deadline:
            raise TimeoutError("a request to the upstream never finished")
        time.sleep(0.01)


@contextmanager
def edge(
    upstream_url: str,
    routes: Sequence[Config],
    jwt: Config | None,
    *,
    clusters: Sequence[Config] | None = None,
    with_fault: bool = False,
) -> Iterator[RunningEnvoy]:
    """A throwaway Envoy with ``routes`` (cluster ``users`` → ``upstream_url``) and ``jwt``."""
    admin = free_port()
    config = bootstrap(
        port=free_port(),
        admin_port=admin,
        routes=routes,
        clusters=clusters if clusters is not None else [cluster("users", [upstream_url])],
        jwt=jwt,
        with_fault=with_fault,
    )
    with throwaway_envoy(config, admin_port=admin) as running:
        yield running


@pytest.fixture(scope="session")
def issuer() -> TokenIssuer:
    return gateway_issuer()
