"""Taught in notebooks/02_databases_postgres.ipynb §4.

Exercise 02.1: keyset pagination of orders, newest first, with an opaque cursor.

An API that lists orders hands out one page at a time. ``OFFSET`` gets slower the deeper you page (the
database reads and discards every earlier row); keyset pagination continues *after the last row seen*
instead, so every page costs the same. The catch is the key: it must be unique. Many orders share a
``created_at`` (a batch import, a busy second), so the position is the pair ``(created_at, id)``, and
the order of the page must be exactly that pair, descending.

The cursor you hand to clients is opaque: a URL-safe string they send back unchanged. Decode it
strictly — anything your API did not issue (garbage, a truncated token, a well-formed token holding
nonsense, a token far longer than any you issue) must raise :class:`InvalidCursorError`, which an API
maps to a 422 response.

Every page must cost the same: the grader EXPLAINs the statement you send for a page after a cursor
and expects a seek on the index ``ix_orders_created_at_id`` (migration 0003) — no ``OFFSET``, no
sort, no rows read in Python beyond the page — and a cursor that still points at the same row after
new orders arrive.

Use the ``orders`` table of the course schema (``reference/databases/models.py``). ``conn`` is a
SQLAlchemy ``Connection``; run SQL with ``conn.execute(sqlalchemy.text(...), params)``.
"""

from __future__ import annotations

import base64  # noqa: F401, RUF100 - for your solution
import binascii  # noqa: F401, RUF100 - for your solution
import json  # noqa: F401, RUF100 - for your solution
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text  # noqa: F401, RUF100 - for your solution

MAX_LIMIT = 100
MAX_CURSOR_LENGTH = 200  # a cursor encode_cursor issues is about 110 characters
ORDER_COLUMNS = ("id", "user_id", "status", "total_cents", "created_at")


class InvalidCursorError(ValueError):
    """A cursor this API did not issue."""


def encode_cursor(created_at: datetime, order_id: uuid.UUID) -> str:
    """An opaque, URL-safe token for the position of the order ``(created_at, order_id)``."""
    # TODO: turn the pair into a string a client can carry in a URL and cannot read as SQL values.
    raise NotImplementedError


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """The ``(created_at, id)`` inside a token from :func:`encode_cursor`.

    Raises InvalidCursorError for anything else.
    """
    # TODO: reverse encode_cursor; any failure (encoding, format, timestamp, id, missing time
    # zone) becomes InvalidCursorError. Refuse a cursor longer than MAX_CURSOR_LENGTH before
    # decoding it: json.loads of thousands of nested brackets raises RecursionError.
    raise NotImplementedError


def keyset_page(
    conn: Connection, cursor: str | None, limit: int = 20
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of orders ordered by ``(created_at, id)`` descending, after ``cursor``.

    ``cursor=None`` is the first page. Returns ``(orders, next_cursor)``: ``orders`` is a list of
    dicts with the keys in ORDER_COLUMNS, ``next_cursor`` the token for the following page, or None
    when this page is the last (never hand out a cursor to an empty page). Raises ValueError for a
    limit outside 1…MAX_LIMIT and InvalidCursorError for a bad cursor.
    """
    # TODO: validate limit; select the orders that come after the cursor's position in
    # (created_at, id) descending order; return one page and the cursor of its last row, or None
    # when no row follows.
    raise NotImplementedError
