"""Fixtures for chapter 03: an issuer with a fresh key ring, its verifier, and a session store on
the test's own Redis key prefix."""

from __future__ import annotations

import pytest
import redis

from reference.auth.authenticator import JwtAuthenticator
from reference.auth.keys import KeyRing, generate_key
from reference.auth.refresh import SessionStore
from reference.auth.tokens import TokenIssuer, TokenVerifier, ring_source

ISSUER = "https://auth.course.test"
AUDIENCE = "course-api"
ALICE = "00000000-0000-4000-8000-00000000a11c"
BOB = "00000000-0000-4000-8000-000000000b0b"


@pytest.fixture
def ring() -> KeyRing:
    return KeyRing(generate_key("EdDSA", kid="k1"))


@pytest.fixture
def issuer(ring: KeyRing) -> TokenIssuer:
    return TokenIssuer(ring, ISSUER, AUDIENCE)


@pytest.fixture
def verifier(ring: KeyRing) -> TokenVerifier:
    return TokenVerifier(ring_source(ring), ISSUER, AUDIENCE)


@pytest.fixture
def alice() -> str:
    return ALICE


@pytest.fixture
def bob() -> str:
    return BOB


@pytest.fixture
def roles() -> dict[str, list[str]]:
    """The user directory: mutable, so a test can demote someone."""
    return {ALICE: ["user"], BOB: ["admin"]}


@pytest.fixture
def sessions(
    redis_client: redis.Redis, redis_prefix: str, issuer: TokenIssuer, roles: dict[str, list[str]]
) -> SessionStore:
    return SessionStore(redis_client, issuer, lambda sub: roles[sub], prefix=redis_prefix)


@pytest.fixture
def authenticator(verifier: TokenVerifier, sessions: SessionStore) -> JwtAuthenticator:
    return JwtAuthenticator([verifier], sessions)
