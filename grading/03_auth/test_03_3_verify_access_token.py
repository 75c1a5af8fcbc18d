"""Grading for exercise 03.3: verify an access token against a JWKS (exercises/03_auth/verify_access_token.py)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from types import ModuleType
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from reference.auth.keys import KeyRing, SigningKey, generate_key
from reference.auth.tokens import InvalidToken, TokenIssuer

ISSUER, AUDIENCE, SUB = "https://auth.course.test", "course-api", "user-42"


class Keys:
    """An EdDSA key ``e1`` and an RS256 key ``r1`` in one JWKS, and tokens signed by either."""

    def __init__(self) -> None:
        self.eddsa = generate_key("EdDSA", kid="e1")
        self.rsa = generate_key("RS256", kid="r1")
        ring = KeyRing(self.rsa)
        ring.rotate(self.eddsa)
        self.jwks = ring.jwks()
        self.ring = ring

    def token(self, key: SigningKey | None = None, **kwargs: Any) -> str:
        ring = KeyRing(key or self.eddsa)
        return TokenIssuer(
            ring, kwargs.pop("iss", ISSUER), kwargs.pop("aud", AUDIENCE), **kwargs
        ).access_token(SUB, ["user"])

    def signed(
        self, claims: dict[str, Any], header: dict[str, Any], key: SigningKey | None = None
    ) -> str:
        key = key or self.eddsa
        return jwt.encode(
            claims, key.private_key, algorithm=key.algorithm, headers={"kid": key.kid, **header}
        )


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _claims(**extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"iss": ISSUER, "aud": AUDIENCE, "sub": SUB, "iat": now, "exp": now + 300, **extra}


def refused(exercise: ModuleType, keys: Keys, token: str) -> None:
    with pytest.raises(InvalidToken):
        exercise.verify_access_token(token, keys.jwks, ISSUER, AUDIENCE)


def test_valid_tokens_of_either_key_verify(exercise: ModuleType, keys: Keys) -> None:
    """An EdDSA token (kid e1) and an RS256 token (kid r1): both verify, claims returned."""
    for key in (keys.eddsa, keys.rsa):
        claims = exercise.verify_access_token(keys.token(key), keys.jwks, ISSUER, AUDIENCE)
        assert claims["sub"] == SUB
        assert claims["iss"] == ISSUER


def test_alg_none_is_refused(exercise: ModuleType, keys: Keys) -> None:
    """``alg: none`` with an empty signature (and a known kid): refused."""
    header = {"alg": "none", "typ": "at+jwt", "kid": "e1"}
    token = _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(_claims()).encode()) + "."
    refused(exercise, keys, token)


def test_hs256_signed_with_the_public_key_is_refused(exercise: ModuleType, keys: Keys) -> None:
    """Algorithm confusion: HS256 'signed' with r1's public PEM as the HMAC secret."""
    pem = keys.rsa.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = {"alg": "HS256", "typ": "at+jwt", "kid": "r1"}
    signing_input = _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(_claims()).encode())
    token = (
        signing_input + "." + _b64(hmac.new(pem, signing_input.encode(), hashlib.sha256).digest())
    )
    refused(exercise, keys, token)


def test_ps256_with_the_rs256_key_is_refused(exercise: ModuleType, keys: Keys) -> None:
    """The token says PS256, the JWK says RS256: the key's alg wins, even though the RSA key
    *could* verify PS256 — taking algorithms from the header is the mistake."""
    token = jwt.encode(
        _claims(), keys.rsa.private_key, algorithm="PS256", headers={"kid": "r1", "typ": "at+jwt"}
    )
    refused(exercise, keys, token)


@pytest.mark.parametrize("kid", [None, "nope", "../../dev/null", ""])
def test_missing_or_unknown_kid_is_refused(
    exercise: ModuleType, keys: Keys, kid: str | None
) -> None:
    """A kid the JWKS does not have (or none): refused — never 'try every key'."""
    header: dict[str, Any] = {"alg": "EdDSA", "typ": "at+jwt"}
    if kid is not None:
        header["kid"] = kid
    token = jwt.encode(_claims(), keys.eddsa.private_key, algorithm="EdDSA", headers=header)
    if kid is None:
        header_b64 = _b64(json.dumps(header).encode())
        token = header_b64 + token[token.index(".") :]
    refused(exercise, keys, token)


def test_a_key_outside_the_jwks_is_refused(exercise: ModuleType, keys: Keys) -> None:
    """A stranger's key that reuses the kid e1: the signature does not verify."""
    stranger = generate_key("EdDSA", kid="e1")
    refused(exercise, keys, keys.token(stranger))


def test_expired_and_not_yet_valid_are_refused(exercise: ModuleType, keys: Keys) -> None:
    now = time.time()
    refused(exercise, keys, keys.token(clock=lambda: now - 3600))
    refused(exercise, keys, keys.token(clock=lambda: now + 3600))


def test_wrong_issuer_or_audience_is_refused(exercise: ModuleType, keys: Keys) -> None:
    """A token of the same keys for another API (aud) or from another issuer."""
    refused(exercise, keys, keys.token(aud="other-api"))
    refused(exercise, keys, keys.token(iss="https://elsewhere"))


@pytest.mark.parametrize("missing", ["iss", "aud", "exp", "iat", "sub"])
def test_each_required_claim_is_required(exercise: ModuleType, keys: Keys, missing: str) -> None:
    """Correctly signed, but without one of iss/aud/exp/iat/sub: refused."""
    claims = {k: v for k, v in _claims().items() if k != missing}
    refused(exercise, keys, keys.signed(claims, {"typ": "at+jwt"}))


def test_a_refresh_token_is_not_an_access_token(exercise: ModuleType, keys: Keys) -> None:
    """Same key, same claims, ``typ: refresh+jwt`` (or no typ): refused."""
    refused(exercise, keys, keys.signed(_claims(), {"typ": "refresh+jwt"}))
    refused(exercise, keys, keys.signed(_claims(), {"typ": "JWT"}))


def test_tampered_or_garbage_tokens_are_refused(exercise: ModuleType, keys: Keys) -> None:
    """Claims swapped under a valid signature, and strings that are not JWTs at all."""
    header, _, signature = keys.token().split(".")
    tampered = header + "." + _b64(json.dumps(_claims(sub="admin")).encode()) + "." + signature
    for token in (tampered, "", "a.b.c", "not a token"):
        refused(exercise, keys, token)
