"""Decoy for 02.1: the right cursor, but the seek done in Python — every order is fetched in order and
the page sliced after the cursor's row. Caught by the seek-plan test (a statement returns every row).

Caught by test_next_page_seeks_on_the_index.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text

MAX_LIMIT = 100
MAX_CURSOR_LENGTH = 200
ORDER_COLUMNS = ("id", "user_id", "status", "total_cents", "created_at")


class InvalidCursorError(ValueError):
    """A cursor this API did not issue."""


def encode_cursor(created_at: datetime, order_id: uuid.UUID) -> str:
    payload = json.dumps({"t": created_at.isoformat(), "id": str(order_id)}).encode()
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    if not isinstance(cursor, str) or not 0 < len(cursor) <= MAX_CURSOR_LENGTH:
        raise InvalidCursorError("invalid cursor")
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        created_at = datetime.fromisoformat(data["t"])
        order_id = uuid.UUID(data["id"])
    except (binascii.Error, ValueError, TypeError, KeyError, AttributeError) as error:
        raise InvalidCursorError(f"invalid cursor: {error}") from error
    if created_at.tzinfo is None:
        raise InvalidCursorError("invalid cursor: timestamp without time zone")
    return created_at, order_id


def keyset_page(
    conn: Connection, cursor: str | None, limit: int = 20
) -> tuple[list[dict[str, Any]], str | None]:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_LIMIT}")
    rows = conn.execute(
        text(f"SELECT {', '.join(ORDER_COLUMNS)} FROM orders ORDER BY created_at DESC, id DESC")
    ).mappings()
    every = [dict(row) for row in rows]
    start = 0
    if cursor is not None:
        position = decode_cursor(cursor)
        start = next(
            (i for i, row in enumerate(every) if (row["created_at"], row["id"]) < position),
            len(every),
        )
    orders = every[start : start + limit + 1]
    if len(orders) <= limit:
        return orders, None
    last = orders[limit - 1]
    return orders[:limit], encode_cursor(last["created_at"], last["id"])
