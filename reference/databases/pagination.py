"""Offset and keyset pagination of users, newest first, with an opaque, validated cursor.

The pattern: order by a *unique* key — ``(created_at, id)`` — and continue after the last row seen
with
a row comparison, ``(created_at, id) < (:created_at, :id)``, served by the index on ``(created_at,
id)``.
The guide's keyset compared ``created_at`` alone, so rows sharing a timestamp were skipped or
repeated
(``guide/databases/queries.py``). ``OFFSET`` reads and throws away every earlier row, so its cost
grows
with depth; keyset's stays flat (``bench/pagination.py``).

The cursor is opaque to clients — base64url of a JSON ``[created_at, id]`` — and decoded strictly: a
tampered or truncated cursor raises :class:`InvalidCursorError` (a ``ValueError`` an API maps to
422).
Taught in ``notebooks/02_databases_postgres.ipynb``.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, text

from reference.databases.bounds import BIGINT_MAX, check_int
from reference.databases.models import UserStatus

MAX_LIMIT = 100
MAX_CURSOR_LENGTH = 200
# Never u.*: password_hash stays in the database.
_COLUMNS = "id, email, name, status, created_at"


class InvalidCursorError(ValueError):
    """The cursor is not one this API issued (bad base64, JSON, timestamp or id)."""


@dataclass(frozen=True)
class UserRow:
    id: uuid.UUID
    email: str
    name: str
    status: UserStatus
    created_at: datetime


@dataclass(frozen=True)
class KeysetPage:
    items: list[UserRow]
    next_cursor: str | None


def encode_cursor(created_at: datetime, id_: uuid.UUID) -> str:
    """The opaque cursor for the position just after ``(created_at, id_)``."""
    payload = json.dumps([created_at.isoformat(), str(id_)], separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """Parse a cursor from :func:`encode_cursor`; anything else raises
    :class:`InvalidCursorError`."""
    if not isinstance(cursor, str) or not 0 < len(cursor) <= MAX_CURSOR_LENGTH:
        raise InvalidCursorError("cursor must be a non-empty string of at most 200 characters")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = json.loads(raw.decode())
    except (binascii.Error, UnicodeDecodeError, ValueError) as error:
        raise InvalidCursorError("cursor is not valid base64url-encoded JSON") from error
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value)):
        raise InvalidCursorError("cursor must encode [created_at, id]")
    try:
        created_at = datetime.fromisoformat(value[0])
        id_ = uuid.UUID(value[1])
    except ValueError as error:
        raise InvalidCursorError("cursor holds an invalid timestamp or id") from error
    if created_at.tzinfo is None:
        raise InvalidCursorError("cursor timestamp has no time zone")
    return created_at, id_


def check_limit(limit: int) -> int:
    """``limit`` if it is an int in ``1…MAX_LIMIT``; otherwise ``ValueError``."""
    return check_int("limit", limit, minimum=1, maximum=MAX_LIMIT)


def check_page(page: int, limit: int) -> int:
    """``page`` (1-based) if its ``OFFSET`` fits in a bigint; otherwise ``ValueError``, not the
    ``DataError`` PostgreSQL would raise for ``OFFSET`` past 2^63 - 1."""
    if isinstance(page, bool) or not isinstance(page, int) or page < 1:
        raise ValueError("page must be an integer >= 1")
    if (page - 1) * limit > BIGINT_MAX:
        raise ValueError(
            f"page is too deep: its OFFSET, (page - 1) * {limit}, must fit in a bigint"
        )
    return page


def _rows(conn: Connection, sql: str, params: dict[str, object]) -> list[UserRow]:
    return [
        UserRow(row.id, row.email, row.name, UserStatus(row.status), row.created_at)
        for row in conn.execute(text(sql), params)
    ]


def keyset_page(conn: Connection, cursor: str | None, limit: int = 20) -> KeysetPage:
    """One page of users newest first, continuing after ``cursor`` (``None``: the first page).

    ``next_cursor`` is ``None`` on the last page. One extra row is fetched to know whether there is
    a next page, so an empty trailing page is never handed out.
    """
    check_limit(limit)
    params: dict[str, object] = {"limit": limit + 1}
    where = ""
    if cursor is not None:
        params["created_at"], params["id"] = decode_cursor(cursor)
        where = "WHERE (created_at, id) < (:created_at, :id)"
    rows = _rows(
        conn,
        f"SELECT {_COLUMNS} FROM users {where} ORDER BY created_at DESC, id DESC LIMIT :limit",
        params,
    )
    if len(rows) <= limit:
        return KeysetPage(rows, None)
    last = rows[limit - 1]
    return KeysetPage(rows[:limit], encode_cursor(last.created_at, last.id))


def offset_page(conn: Connection, page: int, limit: int = 20) -> list[UserRow]:
    """Page ``page`` (1-based) by ``OFFSET`` — correct with the same stable order, slow when
    deep."""
    check_page(page, check_limit(limit))
    return _rows(
        conn,
        f"SELECT {_COLUMNS} FROM users ORDER BY created_at DESC, id DESC "
        "LIMIT :limit OFFSET :offset",
        {"limit": limit, "offset": (page - 1) * limit},
    )


KEYSET_SQL = (
    f"SELECT {_COLUMNS} FROM users WHERE (created_at, id) < (:created_at, :id) "
    "ORDER BY created_at DESC, id DESC LIMIT :limit"
)
OFFSET_SQL = (
    f"SELECT {_COLUMNS} FROM users ORDER BY created_at DESC, id DESC LIMIT :limit OFFSET :offset"
)
