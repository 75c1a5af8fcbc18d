"""The limits PostgreSQL puts on values, checked before a query so a caller gets ``ValueError``.

A ``bigint`` holds at most 2^63 - 1 and a ``text`` value cannot contain NUL; past either, psycopg
raises ``DataError`` from inside the query, which an API would turn into a 500. Every function of
``reference.databases`` that binds a caller's integer or string checks it here first (an API maps the
``ValueError`` to 422).
"""

from __future__ import annotations

from typing import Final

BIGINT_MAX: Final = 2**63 - 1


def check_int(label: str, value: int, *, minimum: int, maximum: int = BIGINT_MAX) -> int:
    """``value`` if it is an ``int`` (not a ``bool``) in ``minimum…maximum``, else ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise ValueError(f"{label} must be an integer between {minimum} and {maximum}")
    return value


def check_text(label: str, value: str, *, max_length: int | None = None) -> str:
    """``value`` if it is a ``str`` PostgreSQL can store (no NUL) of at most ``max_length``."""
    if not isinstance(value, str):
        raise ValueError(f"{label} must be a string")
    if "\x00" in value:
        raise ValueError(f"{label} must not contain NUL characters")
    if max_length is not None and len(value) > max_length:
        raise ValueError(f"{label} must be at most {max_length} characters")
    return value
