"""Decoy for 02.1: the guide's keyset pagination — the cursor holds created_at only.

Port of ``WHERE created_at < :cursor ORDER BY created_at DESC`` (guide/databases/queries.py): rows
sharing the boundary timestamp are skipped, so the ties test fails.

Caught by test_ties_every_order_exactly_once.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text

MAX_LIMIT = 100
ORDER_COLUMNS = ("id", "user_id", "status", "total_cents", "created_at")


class InvalidCursorError(ValueError):
    """A cursor this API did not issue."""


def encode_cursor(created_at: datetime, order_id: object = None) -> str:
    return base64.urlsafe_b64encode(created_at.isoformat().encode()).decode()


def decode_cursor(cursor: str) -> datetime:
    try:
        return datetime.fromisoformat(base64.urlsafe_b64decode(cursor).decode())
    except (binascii.Error, ValueError) as error:
        raise InvalidCursorError(str(error)) from error


def keyset_page(
    conn: Connection, cursor: str | None, limit: int = 20
) -> tuple[list[dict[str, Any]], str | None]:
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError("limit out of range")
    before = decode_cursor(cursor) if cursor else datetime.max.replace(year=9000).astimezone()
    rows = conn.execute(
        text(
            "SELECT id, user_id, status, total_cents, created_at FROM orders "
            "WHERE created_at < :before ORDER BY created_at DESC LIMIT :n"
        ),
        {"before": before, "n": limit},
    ).mappings()
    orders = [dict(row) for row in rows]
    next_cursor = encode_cursor(orders[-1]["created_at"]) if len(orders) == limit else None
    return orders, next_cursor
