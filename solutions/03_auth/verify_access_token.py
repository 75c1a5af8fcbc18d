"""Taught in notebooks/03_auth_tokens.ipynb §3.

Exercise 03.3: verify an access token so that the *verifier* decides the algorithm.

The guide called ``jwt.verify(token, secret)``: whatever algorithm the token's header named (among
those the key type allows) was used, there was no ``typ`` (a refresh token passed as an access
token), and no ``iss``/``aud`` (a token for another service passed too). With a JWKS, the classic
mistakes are decoding without checking the signature and taking ``algorithms`` from the token's own
header.

Write :func:`verify_access_token`. ``jwks`` is a JSON Web Key Set (``{"keys": [...]}``), each key
with ``kid`` and ``alg``. Return the verified claims, or raise
:class:`~reference.auth.tokens.InvalidToken` (any reason text) when:

- the header has no ``kid``, or a ``kid`` the JWKS does not have;
- the header's ``typ`` is not ``at+jwt``;
- the header's ``alg`` is not exactly the ``alg`` of the key its ``kid`` names (``none``, ``HS256``
  signed with the public key, ``PS256`` with an ``RS256`` key: all refused);
- the signature does not verify with that key;
- ``iss`` is not ``issuer``, ``aud`` does not contain ``audience``, it has expired or is not yet
  valid (``nbf``), or any of ``iss``, ``aud``, ``exp``, ``iat``, ``sub`` is missing;
- the token is not a JWT at all.

``jwt.PyJWK.from_dict(jwk)`` turns a JWK into a key (``.key``, ``.algorithm_name``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jwt

from reference.auth.tokens import InvalidToken

__all__ = ["InvalidToken", "verify_access_token"]


def verify_access_token(
    token: str, jwks: Mapping[str, Any], issuer: str, audience: str
) -> dict[str, Any]:
    """The token's verified claims, or :class:`InvalidToken`."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise InvalidToken("not a JWT") from None
    if header.get("typ") != "at+jwt":
        raise InvalidToken("not an access token")
    kid = header.get("kid")
    matches = [k for k in jwks.get("keys", []) if kid is not None and k.get("kid") == kid]
    if len(matches) != 1:
        raise InvalidToken("unknown kid")
    try:
        key = jwt.PyJWK.from_dict(dict(matches[0]))
    except jwt.PyJWTError:
        raise InvalidToken("unusable key") from None
    if header.get("alg") != matches[0].get("alg") or header.get("alg") != key.algorithm_name:
        raise InvalidToken("algorithm does not match the key")
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key.key,
            algorithms=[key.algorithm_name],
            issuer=issuer,
            audience=audience,
            options={"require": ["iss", "aud", "exp", "iat", "sub"]},
        )
    except jwt.PyJWTError as error:
        raise InvalidToken(str(error)) from None
    return claims
