"""Decoy for 03.3: ``algorithms=[header['alg']]``: the token chooses. Caught by test_ps256_with_the_rs256_key_is_refused."""

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
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key.key,
            algorithms=[str(header.get("alg"))],
            issuer=issuer,
            audience=audience,
            options={"require": ["iss", "aud", "exp", "iat", "sub"]},
        )
    except jwt.PyJWTError as error:
        raise InvalidToken(str(error)) from None
    return claims
