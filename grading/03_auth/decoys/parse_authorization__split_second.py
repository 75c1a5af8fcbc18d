"""Decoy for 03.1: ``header.split()[1]`` after a case-insensitive scheme check: a second token is silently dropped and any characters pass. Caught by test_anything_else_is_invalid_request (two tokens, a comma, non-ASCII)."""

from __future__ import annotations

from collections.abc import Sequence

from reference.auth.bearer import BearerError


def parse_authorization(header: str | Sequence[str] | None) -> str:
    values = [header] if isinstance(header, str) else list(header or ())
    if not values:
        raise BearerError("", "no credentials")
    if len(values) > 1:
        raise BearerError("invalid_request", "two headers")
    parts = values[0].split()
    if len(parts) < 2 or parts[0].lower() != "bearer":
        raise BearerError("invalid_request", "not a bearer token")
    return parts[1]
