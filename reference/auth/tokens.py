"""Access and refresh tokens with PyJWT: pinned algorithms, required claims, a ``typ``, a ``kid``.

The pattern (RFC 8725, JWT best current practice; RFC 9068 for access tokens):

- the verifier, not the token, decides the algorithm: the ``kid`` selects a key from the JWKS and
  that key's own ``alg`` is the only one accepted — ``alg: none`` and HS256 signed with the public
  key (algorithm confusion) are refused before any signature check;
- ``iss``, ``aud``, ``exp``, ``iat`` and ``sub`` are required, and ``nbf`` is honoured;
- the header's ``typ`` tells an access token (``at+jwt``) from a refresh token (``refresh+jwt``), so
  one can never be used as the other — the guide's tokens had no ``typ`` and, with equal secrets,
  its refresh token was a valid access token;
- an access token carries a ``ver`` (the user's token version): demoting or suspending a user bumps
  it, and :class:`~reference.auth.refresh.SessionStore` refuses older tokens at once.

:class:`TokenVerifier` takes any JWKS source — the issuer's own :class:`~reference.auth.keys.KeyRing`
or a fetched, cached document (:class:`JwksCache`, e.g. Keycloak's). Taught in
``notebooks/03_auth_tokens.ipynb``.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt

from reference.auth.keys import KeyRing

ACCESS_TYP = "at+jwt"
REFRESH_TYP = "refresh+jwt"
# The algorithms this course signs with; HS* is never accepted from a JWKS (a public key is no
# HMAC secret) and "none" is never accepted at all.
ASYMMETRIC = frozenset({"EdDSA", "RS256", "RS384", "RS512", "PS256", "ES256"})
REQUIRED = ["iss", "aud", "exp", "iat", "sub"]


class InvalidToken(Exception):
    """The token is refused; ``reason`` is for logs, never for the client (RFC 6750 invalid_token)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class TokenIssuer:
    """Mints this service's tokens with the key ring's current signer."""

    keys: KeyRing
    issuer: str
    audience: str
    access_ttl: int = 15 * 60
    refresh_ttl: int = 14 * 24 * 3600
    clock: Callable[[], float] = time.time

    def _encode(self, claims: Mapping[str, Any], typ: str, ttl: int) -> str:
        now = int(self.clock())
        signer = self.keys.signer
        payload = {
            "iss": self.issuer,
            "aud": self.audience,
            "iat": now,
            "nbf": now,
            "exp": now + ttl,
            "jti": secrets.token_urlsafe(16),
            **claims,
        }
        return jwt.encode(
            payload,
            signer.private_key,
            algorithm=signer.algorithm,
            headers={"kid": signer.kid, "typ": typ},
        )

    def access_token(
        self, sub: str, roles: Iterable[str], *, version: int = 0, sid: str | None = None
    ) -> str:
        claims: dict[str, Any] = {"sub": sub, "roles": sorted(roles), "ver": version}
        if sid is not None:
            claims["sid"] = sid
        return self._encode(claims, ACCESS_TYP, self.access_ttl)

    def refresh_token(self, sub: str, sid: str, jti: str) -> str:
        """A refresh token of session (family) ``sid``; ``jti`` is what the store compares."""
        return self._encode({"sub": sub, "sid": sid, "jti": jti}, REFRESH_TYP, self.refresh_ttl)


class JwksCache:
    """A JWKS fetched over HTTP and kept for ``ttl`` seconds; an unknown ``kid`` refetches once
    (a rotation at the issuer), at most every ``min_refetch`` seconds (a flood of made-up ``kid``
    values must not become a flood of requests to the issuer)."""

    def __init__(
        self,
        url: str,
        *,
        ttl: float = 300.0,
        min_refetch: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        client: httpx.Client | None = None,
    ) -> None:
        self.url, self.ttl, self.min_refetch, self.clock = url, ttl, min_refetch, clock
        self._client = client or httpx.Client(timeout=5.0)
        self._doc: dict[str, Any] = {"keys": []}
        self._fetched_at = -float("inf")
        self.fetches = 0

    def _fetch(self) -> None:
        response = self._client.get(self.url)
        response.raise_for_status()
        self._doc, self._fetched_at = response.json(), self.clock()
        self.fetches += 1

    def jwks(self, kid: str | None = None) -> dict[str, Any]:
        age = self.clock() - self._fetched_at
        known = any(k.get("kid") == kid for k in self._doc.get("keys", []))
        if age > self.ttl or (kid is not None and not known and age > self.min_refetch):
            self._fetch()
        return self._doc


JwksSource = Callable[[str | None], Mapping[str, Any]]


def ring_source(ring: KeyRing) -> JwksSource:
    """The issuer's own key ring as a JWKS source (in-process, nothing fetched)."""
    return lambda _kid: ring.jwks()


@dataclass
class TokenVerifier:
    """Verifies tokens of one issuer for one audience, with keys from ``jwks``."""

    jwks: JwksSource
    issuer: str
    audience: str
    typ: str = ACCESS_TYP
    # Providers that put "JWT" in the header say what a token is in a claim instead (Keycloak:
    # "typ": "Bearer" for access, "ID" for ID tokens, "Refresh" for refresh tokens).
    claim_typ: str | None = None
    leeway: int = 0
    _keys: dict[str, jwt.PyJWK] = field(default_factory=dict, repr=False)

    def _key(self, kid: str) -> jwt.PyJWK:
        for jwk in self.jwks(kid).get("keys", []):
            if jwk.get("kid") == kid:
                cached = self._keys.get(kid)
                if cached is None or cached.key_id != kid:
                    cached = self._keys[kid] = jwt.PyJWK.from_dict(dict(jwk))
                return cached
        raise InvalidToken("unknown kid")

    def verify(self, token: str) -> dict[str, Any]:
        """The verified claims, or :class:`InvalidToken`."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise InvalidToken("malformed token") from None
        kid, alg = header.get("kid"), header.get("alg")
        if not isinstance(kid, str) or not kid or len(kid) > 128:
            raise InvalidToken("missing or malformed kid")
        if header.get("typ") != self.typ:
            raise InvalidToken(f"typ is not {self.typ}")
        key = self._key(kid)
        pinned = key.algorithm_name
        # The key decides: its own alg, and only an asymmetric one (no "none", no HS256 with a
        # public key as the secret).
        if pinned not in ASYMMETRIC or alg != pinned:
            raise InvalidToken("algorithm not allowed for this key")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=[pinned],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": REQUIRED, "verify_signature": True},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("expired") from None
        except jwt.ImmatureSignatureError:
            raise InvalidToken("not yet valid") from None
        except jwt.PyJWTError as error:
            raise InvalidToken(type(error).__name__) from None
        if self.claim_typ is not None and claims.get("typ") != self.claim_typ:
            raise InvalidToken(f"typ claim is not {self.claim_typ}")
        return claims
