"""Taught in notebooks/03_auth_tokens.ipynb §2.

Exercise 03.1: parse an ``Authorization`` header the way RFC 6750 §2.1 says.

The guide's middleware took ``authorization.substring(7)``: any seven characters off any header.
``Digest <token>`` passed as a bearer token, ``Bearerabc`` became the token ``bc``, and every 401
lacked the ``WWW-Authenticate`` challenge a client needs.

Write :func:`parse_authorization`. It receives every ``Authorization`` value the request carried (a
single string is one value; ``None`` or an empty list is none) and returns the one bearer token:

- the scheme ``Bearer`` compared case-insensitively, then one or more spaces, then the token;
- the token: one or more of ``A–Z a–z 0–9 - . _ ~ + /``, then optionally ``=`` padding; trailing
  spaces are allowed, anything else (a second token, a comma, a non-ASCII letter) is not;
- no value at all → ``BearerError("", …)`` (RFC 6750 §3.1: no error code when no credentials
  were sent); two or more values, another scheme or a malformed token →
  ``BearerError("invalid_request", …)``.

:class:`~reference.auth.bearer.BearerError` builds the ``WWW-Authenticate`` challenge from its
``error``; the grader checks the code you give it.
"""

from __future__ import annotations

import string
from collections.abc import Sequence

from reference.auth.bearer import BearerError

__all__ = ["BearerError", "parse_authorization"]

TOKEN_CHARACTERS = frozenset(string.ascii_letters + string.digits + "-._~+/")


def parse_authorization(header: str | Sequence[str] | None) -> str:
    """The one bearer token in ``header``, or :class:`BearerError`."""
    values = [header] if isinstance(header, str) else list(header or ())
    if not values:
        raise BearerError("", "no credentials")
    if len(values) > 1:
        raise BearerError("invalid_request", "more than one Authorization header")
    scheme, _, rest = values[0].partition(" ")
    token = rest.strip(" ")
    body = token.rstrip("=")
    if scheme.lower() != "bearer" or not body or not set(body) <= TOKEN_CHARACTERS:
        raise BearerError("invalid_request", "the Authorization header is not 'Bearer <token>'")
    return token
