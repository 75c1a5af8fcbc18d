"""RFC 6750 bearer parsing, with the error code a 401's ``WWW-Authenticate`` should carry.

``Authorization: Bearer <token>``: the scheme compared case-insensitively (RFC 9110 §11.1), exactly
one token of the ``b64token`` alphabet. No header is a plain challenge (§3.1: no error code when the
request had no credentials); anything else that is not one bearer token is ``invalid_request``.
The guide's ``authorization.substring(7)`` took seven characters off any header: ``Digest <jwt>``
was accepted and ``Bearerabc`` became the token ``bc``. Chapter 01's REST, GraphQL and gRPC entry points parse with these. Taught in
``notebooks/03_auth_tokens.ipynb``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
_BEARER = re.compile(r"^[Bb][Ee][Aa][Rr][Ee][Rr] +([A-Za-z0-9\-._~+/]+=*) *$")


def parse_bearer(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or ``None`` if it is not one."""
    if not header:
        return None
    match = _BEARER.match(header)
    return match.group(1) if match else None


class BearerError(Exception):
    """No usable bearer token. ``error`` is RFC 6750's code ('' when no credentials were sent)."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error, self.description = error, description

    @property
    def www_authenticate(self) -> str:
        challenge = 'Bearer realm="backend-skill-lab"'
        if self.error:
            challenge += f', error="{self.error}", error_description="{self.description}"'
        return challenge


def parse_authorization(header: str | Sequence[str] | None) -> str:
    """The one bearer token in ``header`` (a value, or every ``Authorization`` value sent)."""
    values = [header] if isinstance(header, str) else list(header or [])
    if not values:
        raise BearerError("", "no credentials")
    if len(values) > 1:
        raise BearerError("invalid_request", "more than one Authorization header")
    token = parse_bearer(values[0])
    if token is None:
        raise BearerError("invalid_request", "the Authorization header is not 'Bearer <token>'")
    return token
