"""Decoy for 03.1: no header at all answered with ``invalid_request`` (RFC 6750 §3.1 wants a bare challenge). Caught by test_no_credentials_is_a_plain_challenge."""

from __future__ import annotations

from collections.abc import Sequence

from reference.auth.bearer import BearerError


def parse_authorization(header: str | Sequence[str] | None) -> str:
    values = [header] if isinstance(header, str) else list(header or ())
    if len(values) != 1:
        raise BearerError("invalid_request", "one Authorization header is required")
    scheme, _, token = values[0].partition(" ")
    token = token.strip(" ")
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~+/")
    if scheme.lower() != "bearer" or not token.rstrip("=") or not set(token.rstrip("=")) <= allowed:
        raise BearerError("invalid_request", "not a bearer token")
    return token
