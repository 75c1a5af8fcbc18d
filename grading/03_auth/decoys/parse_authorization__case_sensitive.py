"""Decoy for 03.1: only the exact spelling ``Bearer `` is accepted. Caught by test_the_scheme_is_case_insensitive."""

from __future__ import annotations

from collections.abc import Sequence

from reference.auth.bearer import BearerError


def parse_authorization(header: str | Sequence[str] | None) -> str:
    values = [header] if isinstance(header, str) else list(header or ())
    if not values:
        raise BearerError("", "no credentials")
    if len(values) > 1 or not values[0].startswith("Bearer ") or " " in values[0][7:].strip():
        raise BearerError("invalid_request", "not a bearer token")
    token = values[0][7:].strip()
    if not token or not token.isascii():
        raise BearerError("invalid_request", "not a bearer token")
    return token
