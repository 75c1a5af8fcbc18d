"""Opaque keyset cursors (GraphQL ``after``/``endCursor``, gRPC ``page_token``).

Pattern: keyset pagination on ``(created_at, id)`` — the page boundary is a position, not an offset,
so a page costs the same at row 10 as at row 10 million and inserts never shift it. The position is
base64url-encoded so clients treat it as opaque and the server may change its contents. A cursor
that does not decode is the client's error (:class:`InvalidCursor`), never a 500. Taught in
``notebooks/01_api_design_graphql.ipynb``.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from datetime import datetime

# An issued cursor is ~100 characters (a timestamp and a UUID, base64url); allow some slack.
MAX_CURSOR_LENGTH = 200


class InvalidCursor(ValueError):
    """The cursor was not produced by :func:`encode_cursor`."""


@dataclass(frozen=True)
class Keyset:
    """A position in ``ORDER BY created_at, id``."""

    created_at: datetime
    id: uuid.UUID


def encode_cursor(position: Keyset) -> str:
    """``Keyset`` → an opaque, URL-safe string."""
    raw = json.dumps([position.created_at.isoformat(), str(position.id)], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> Keyset:
    """The inverse of :func:`encode_cursor`; anything else raises :class:`InvalidCursor`.

    The cursor is client input: it is length-checked before decoding (a cursor of thousands of
    nested brackets would otherwise recurse in the JSON decoder) and every decoded value is
    type-checked (a well-formed ``[timestamp, 5]`` is not ours either).
    """
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise InvalidCursor("malformed cursor")
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        position = json.loads(base64.urlsafe_b64decode(padded.encode()))
        match position:
            case [str(created_at), str(id_)]:
                when = datetime.fromisoformat(created_at)
                if when.tzinfo is None:
                    raise ValueError("naive timestamp")
                return Keyset(created_at=when, id=uuid.UUID(id_))
            case _:
                raise ValueError("not a [timestamp, id] pair of strings")
    except (ValueError, binascii.Error) as exc:  # UnicodeError and JSONDecodeError included
        raise InvalidCursor("malformed cursor") from exc
