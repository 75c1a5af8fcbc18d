"""Decoy for 03.1: takes the first of several Authorization headers. Caught by test_two_headers_are_ambiguous."""

from __future__ import annotations

from collections.abc import Sequence

from reference.auth.bearer import BearerError


def parse_authorization(header: str | Sequence[str] | None) -> str:
    values = [header] if isinstance(header, str) else list(header or ())
    if not values:
        raise BearerError("", "no credentials")
    scheme, _, token = values[0].partition(" ")
    token = token.strip(" ")
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~+/")
    if scheme.lower() != "bearer" or not token.rstrip("=") or not set(token.rstrip("=")) <= allowed:
        raise BearerError("invalid_request", "not a bearer token")
    return token
