"""Access tokens: required claims, typ, kid, pinned algorithms, JWKS rotation, the cached JWKS
source, bearer parsing and argon2id rehash on login."""

from __future__ import annotations

import base64
import json
import time

import pytest
from argon2 import PasswordHasher

from reference.auth.bearer import BearerError, parse_authorization
from reference.auth.keys import KeyRing, generate_key
from reference.auth.passwords import check_password, hash_password
from reference.auth.tokens import InvalidToken, TokenIssuer, TokenVerifier, ring_source


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_access_token_round_trip(issuer: TokenIssuer, verifier: TokenVerifier, alice: str) -> None:
    claims = verifier.verify(issuer.access_token(alice, ["user"], version=3))
    assert claims["sub"] == alice
    assert claims["roles"] == ["user"]
    assert claims["ver"] == 3
    assert {"iss", "aud", "exp", "iat", "nbf", "jti"} <= claims.keys()


def test_each_required_claim_is_required(issuer: TokenIssuer, verifier: TokenVerifier) -> None:
    signer = issuer.keys.signer
    import jwt

    full = {
        "iss": issuer.issuer,
        "aud": issuer.audience,
        "exp": int(time.time()) + 60,
        "iat": int(time.time()),
        "sub": "s",
    }
    for claim in ("iss", "aud", "exp", "iat", "sub"):
        claims = {k: v for k, v in full.items() if k != claim}
        token = jwt.encode(
            claims, signer.private_key, "EdDSA", headers={"kid": signer.kid, "typ": "at+jwt"}
        )
        with pytest.raises(InvalidToken):
            verifier.verify(token)


def test_refresh_token_is_not_an_access_token(
    issuer: TokenIssuer, verifier: TokenVerifier, alice: str
) -> None:
    with pytest.raises(InvalidToken, match="typ"):
        verifier.verify(issuer.refresh_token(alice, "sid", "jti"))


def test_rotation_old_tokens_verify_until_retired(
    ring: KeyRing, issuer: TokenIssuer, verifier: TokenVerifier, alice: str
) -> None:
    old = issuer.access_token(alice, ["user"])
    new_key = ring.rotate()
    new = issuer.access_token(alice, ["user"])
    assert json.loads(base64.urlsafe_b64decode(new.split(".")[0] + "==")).get("kid") == new_key.kid
    assert verifier.verify(old)["sub"] == verifier.verify(new)["sub"] == alice
    ring.retire("k1")
    with pytest.raises(InvalidToken, match="unknown kid"):
        verifier.verify(old)
    assert verifier.verify(new)["sub"] == alice
    with pytest.raises(ValueError, match="signing key"):
        ring.retire(new_key.kid)


def test_rs256_ring_publishes_rsa_jwk_and_verifies(alice: str) -> None:
    ring = KeyRing(generate_key("RS256", kid="r1"))
    issuer = TokenIssuer(ring, "https://i", "a")
    assert ring.jwks()["keys"][0]["kty"] == "RSA"
    assert "d" not in ring.jwks()["keys"][0]
    verifier = TokenVerifier(ring_source(ring), "https://i", "a")
    assert verifier.verify(issuer.access_token(alice, ["user"]))["sub"] == alice


def test_jwks_is_public_only(ring: KeyRing) -> None:
    (jwk,) = ring.jwks()["keys"]
    assert jwk["kty"] == "OKP"
    assert "d" not in jwk
    assert jwk["kid"] == "k1"
    assert jwk["alg"] == "EdDSA"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Bearer abc.def-ghi", "abc.def-ghi"),
        ("bearer tok", "tok"),
        ("BEARER tok==", "tok=="),
        (["Bearer one"], "one"),
    ],
)
def test_bearer_accepted(header: str | list[str], expected: str) -> None:
    assert parse_authorization(header) == expected


@pytest.mark.parametrize(
    ("header", "error"),
    [
        (None, ""),
        ([], ""),
        ("Basic dXNlcjpwYXNz", "invalid_request"),
        ("Bearerabc", "invalid_request"),
        ("Bearer a b", "invalid_request"),
        ("Bearer ", "invalid_request"),
        ("Digest abcdefghijk", "invalid_request"),
        (["Bearer a", "Bearer b"], "invalid_request"),
        ("Bearer tok\u00e9", "invalid_request"),
    ],
)
def test_bearer_refused(header: str | list[str] | None, error: str) -> None:
    with pytest.raises(BearerError) as refused:
        parse_authorization(header)
    assert refused.value.error == error
    assert refused.value.www_authenticate.startswith("Bearer ")
    assert ("error=" in refused.value.www_authenticate) == bool(error)


def test_argon2id_rehash_on_login() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    current = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)
    stored = hash_password("s3cret", weak)
    assert stored.startswith("$argon2id$")
    ok, new_hash = check_password(stored, "s3cret", current)
    assert ok
    assert new_hash is not None
    assert "m=16,t=2" in new_hash
    assert check_password(new_hash, "s3cret", current) == (True, None)
    assert check_password(new_hash, "wrong", current) == (False, None)
    assert check_password("not a hash", "s3cret", current) == (False, None)


def test_malformed_tokens_refused(verifier: TokenVerifier) -> None:
    for token in ("", "a.b.c", "x" * 50, _b64({"alg": "EdDSA"}) + ".e30.", "..."):
        with pytest.raises(InvalidToken):
            verifier.verify(token)


@pytest.mark.filterwarnings("ignore:The HMAC key is")  # the attacker's key is short on purpose
@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
def test_hmac_tokens_are_refused_whatever_the_secret(
    issuer: TokenIssuer, verifier: TokenVerifier, alg: str, alice: str
) -> None:
    """guide-defects 3.1: an HMAC-signed token naming the course's kid — with the guide's kind of
    shared secret or with the public key's bytes — is refused before any signature check."""
    import jwt

    public = issuer.keys.signer.public_jwk()["x"].encode()
    now = int(time.time())
    claims = {
        "iss": issuer.issuer,
        "aud": issuer.audience,
        "sub": alice,
        "iat": now,
        "exp": now + 60,
    }
    for secret in (b"s" * 64, public):
        token = jwt.encode(claims, secret, algorithm=alg, headers={"kid": "k1", "typ": "at+jwt"})
        with pytest.raises(InvalidToken, match="algorithm"):
            verifier.verify(token)
