"""Decoy for 03.1: the guide's ``authorization.substring(7)``: any scheme, any characters. Caught by test_anything_else_is_invalid_request (Digest <token>, Basic …)."""

from __future__ import annotations

from collections.abc import Sequence

from reference.auth.bearer import BearerError


def parse_authorization(header: str | Sequence[str] | None) -> str:
    values = [header] if isinstance(header, str) else list(header or ())
    if not values:
        raise BearerError("", "no credentials")
    token = values[0][7:]
    if not token:
        raise BearerError("invalid_request", "no token")
    return token
