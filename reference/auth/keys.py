"""Signing keys that rotate through a JWKS document: new tokens use the newest key, old ones verify
until they expire.

The pattern: every token names its key (``kid`` in the header); verifiers look the ``kid`` up in a
JSON Web Key Set — a *public* document — so services verify without holding any secret. Rotation
adds a key and makes it the signer; the previous key stays in the set (verify-only) until every
token it signed has expired, then :meth:`KeyRing.retire` drops it. The guide signed everything
with one shared HMAC secret: every service able to verify could also mint tokens, and changing the
secret logged everyone out at once. Taught in ``notebooks/03_auth_tokens.ipynb``.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any, Literal

from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from jwt.algorithms import OKPAlgorithm, RSAAlgorithm

Algorithm = Literal["EdDSA", "RS256"]


@dataclass(frozen=True)
class SigningKey:
    """One private key, its ``kid`` and the one algorithm it may be used with."""

    kid: str
    algorithm: Algorithm
    private_key: ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey

    def public_jwk(self) -> dict[str, Any]:
        """The public half as a JWK carrying ``kid``, ``alg`` and ``use``."""
        public = self.private_key.public_key()
        if isinstance(public, ed25519.Ed25519PublicKey):
            jwk = json.loads(OKPAlgorithm.to_jwk(public))
        else:
            jwk = json.loads(RSAAlgorithm.to_jwk(public))
        return {**jwk, "kid": self.kid, "alg": self.algorithm, "use": "sig"}


def generate_key(algorithm: Algorithm = "EdDSA", kid: str | None = None) -> SigningKey:
    """A fresh key; RSA keys are 2048-bit (RS256's usual size), Ed25519 has only one size."""
    private: ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey
    if algorithm == "EdDSA":
        private = ed25519.Ed25519PrivateKey.generate()
    elif algorithm == "RS256":
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    else:
        raise ValueError(f"unsupported signing algorithm {algorithm!r} (EdDSA or RS256)")
    return SigningKey(kid or secrets.token_urlsafe(8), algorithm, private)


class KeyRing:
    """The issuer's keys: one signer plus older keys kept for verification only."""

    def __init__(self, first: SigningKey) -> None:
        self._keys: list[SigningKey] = [first]
        self._jwks: dict[str, Any] | None = None  # built once per change: verifiers read it often

    @property
    def signer(self) -> SigningKey:
        return self._keys[-1]

    def rotate(self, new: SigningKey | None = None) -> SigningKey:
        """Make ``new`` (default: a fresh key of the signer's algorithm) the signer."""
        key = new or generate_key(self.signer.algorithm)
        if any(k.kid == key.kid for k in self._keys):
            raise ValueError(f"kid {key.kid!r} is already in the key ring")
        self._keys.append(key)
        self._jwks = None
        return key

    def retire(self, kid: str) -> None:
        """Drop a verify-only key (after its last token expired); the signer cannot be retired."""
        if kid == self.signer.kid:
            raise ValueError("the current signing key cannot be retired; rotate first")
        self._keys = [k for k in self._keys if k.kid != kid]
        self._jwks = None

    def jwks(self) -> dict[str, Any]:
        """The public JWKS document (``/.well-known/jwks.json``)."""
        if self._jwks is None:
            self._jwks = {"keys": [k.public_jwk() for k in self._keys]}
        return self._jwks
