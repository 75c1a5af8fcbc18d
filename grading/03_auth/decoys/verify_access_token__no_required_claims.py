"""Decoy for 03.3: no ``require``: a token without ``exp`` (never expires) or ``sub`` passes. Caught by test_each_required_claim_is_required."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jwt

from reference.auth.tokens import InvalidToken


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
        )
    except jwt.PyJWTError as error:
        raise InvalidToken(str(error)) from None
    return claims
