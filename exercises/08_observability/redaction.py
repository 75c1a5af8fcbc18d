"""Taught in notebooks/08_observability_logs.ipynb §2.

Exercise 08.1: a structlog processor that keeps secrets out of the logs.

The guide's Rule 6 says "mask sensitive data", and its own Winston logger writes a request body's
password, the ``Authorization`` header and the refresh token verbatim. Write the processor:

``redact_secrets(logger, method_name, event_dict)`` — returns a **new** event dict (the caller's
dict, and every dict and list inside it, stay exactly as they were) in which:

* the value of every key whose name — lower-cased, with ``-`` and ``_`` removed — *contains* one of
  ``SENSITIVE`` (``Password``, ``user_password``, ``X-Api-Key``, a ``refresh_token`` three levels
  down in a list …) is ``REDACTED``, whatever the value (a dict or list too). The key stays: the
  reader must see that something was there;
* inside every string value, ``Bearer <credential>`` (any case; the credential is the run of
  ``A-Z a-z 0-9 - . _ ~ + / =`` after the spaces) becomes ``Bearer [REDACTED]``;
* card numbers — 13 to 19 digits, single spaces or dashes allowed between them, that pass the Luhn
  check (``luhn_valid``) — become ``REDACTED``, inside a string or as an ``int`` value. Every other
  number stays: an order id, a phone number, a timestamp are what an engineer needs in a log;
* dicts and lists are walked at any depth up to ``MAX_DEPTH``; a container deeper than that becomes
  ``TRUNCATED`` (hostile input nested 100,000 levels must not raise ``RecursionError``);
* keys that are not strings (``1``, ``(2, 3)``) become ``str(key)``, so the line can be rendered.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any, Final

from reference.observability.redaction import luhn_valid

__all__ = [
    "MAX_DEPTH",
    "REDACTED",
    "SENSITIVE",
    "TRUNCATED",
    "luhn_valid",
    "mask_text",
    "redact_secrets",
    "sensitive_key",
]

REDACTED: Final = "[REDACTED]"
TRUNCATED: Final = "[TRUNCATED]"
MAX_DEPTH: Final = 8
SENSITIVE: Final = ("password", "passwd", "secret", "token", "authorization", "apikey", "cookie")


def sensitive_key(name: str) -> bool:
    """True when the key ``name`` names a secret."""
    # TODO: lower-case, drop "-" and "_", then look for any of SENSITIVE inside.
    raise NotImplementedError


def mask_text(text: str) -> str:
    """``text`` with every ``Bearer`` credential and every card number masked."""
    # TODO: two re.sub passes: Bearer credentials, then card-like digit runs checked with luhn_valid.
    raise NotImplementedError


def redact_secrets(
    logger: object, method_name: str, event_dict: MutableMapping[str, Any]
) -> dict[str, Any]:
    """A masked copy of ``event_dict``."""
    # TODO: walk a copy: dicts (mask sensitive keys' values, str() other keys), lists/tuples, strings
    # (mask_text), ints (card numbers); a dict or list at MAX_DEPTH becomes TRUNCATED.
    raise NotImplementedError
