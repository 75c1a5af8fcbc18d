"""Decoy for 02.1: an opaque cursor that only holds an OFFSET — every page is right until someone inserts
an order, and deep pages read every row before them. Caught by the seek-plan and concurrent-insert tests.

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


def encode_cursor(created_at: datetime, order_id: uuid.UUID, offset: int = 0) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    if not 0 < len(cursor) <= MAX_CURSOR_LENGTH:
        raise InvalidCursorError("cursor too long")
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        offset = data["offset"]
    except (binascii.Error, ValueError, TypeError, KeyError) as error:
        raise InvalidCursorError(str(error)) from error
    if not isinstance(offset, int) or offset < 0:
        raise InvalidCursorError("bad offset")
    return offset


def keyset_page(
    conn: Connection, cursor: str | None, limit: int = 20
) -> tuple[list[dict[str, Any]], str | None]:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_LIMIT}")
    offset = 0 if cursor is None else decode_cursor(cursor)
    rows = conn.execute(
        text(
            f"SELECT {', '.join(ORDER_COLUMNS)} FROM orders "
            "ORDER BY created_at DESC, id DESC LIMIT :n OFFSET :o"
        ),
        {"n": limit + 1, "o": offset},
    ).mappings()
    orders = [dict(row) for row in rows]
    if len(orders) <= limit:
        return orders, None
    last = orders[limit - 1]
    return orders[:limit], encode_cursor(last["created_at"], last["id"], offset + limit)
