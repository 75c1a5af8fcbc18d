"""Keyset pagination on (created_at, id) with an opaque cursor; offset pagination for comparison."""

from __future__ import annotations

import base64
import json

import pytest
from sqlalchemy import Engine, text

from reference.databases import migrate, pagination, seed
from reference.databases.explain import explain
from reference.databases.pagination import InvalidCursorError, decode_cursor, encode_cursor


@pytest.fixture
def tied(pg_url: str, pg_engine: Engine) -> Engine:
    """1,000 users in groups of 10 sharing one created_at."""
    migrate.upgrade(pg_url)
    with pg_engine.begin() as conn:
        seed.seed_users(conn, 1_000, ties=10)
    return pg_engine


def test_keyset_with_ties_returns_every_row_exactly_once(tied: Engine) -> None:
    seen = []
    cursor = None
    pages = 0
    with tied.connect() as conn:
        while True:
            page = pagination.keyset_page(conn, cursor, limit=7)
            seen += [row.id for row in page.items]
            pages += 1
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        all_ids = conn.execute(text("SELECT id FROM users ORDER BY created_at DESC, id DESC"))
        assert seen == list(all_ids.scalars())
    assert len(seen) == len(set(seen)) == 1_000
    assert pages == 143  # ceil(1000 / 7): no empty trailing page


def test_offset_and_keyset_pages_agree(tied: Engine) -> None:
    with tied.connect() as conn:
        first = pagination.keyset_page(conn, None, limit=25)
        second = pagination.keyset_page(conn, first.next_cursor, limit=25)
        assert first.items == pagination.offset_page(conn, 1, limit=25)
        assert second.items == pagination.offset_page(conn, 2, limit=25)


def test_keyset_page_is_an_index_scan_without_sort(tied: Engine) -> None:
    with tied.connect() as conn:
        conn.execute(text("ANALYZE users"))
        first = pagination.keyset_page(conn, None, limit=10)
        created_at, id_ = decode_cursor(first.next_cursor or "")
        plan = explain(
            conn, pagination.KEYSET_SQL, {"created_at": created_at, "id": id_, "limit": 10}
        )
    assert "Sort" not in plan.node_types
    assert plan.indexes_used == ("ix_users_created_at_id",)


def test_cursor_round_trips_and_is_opaque(tied: Engine) -> None:
    with tied.connect() as conn:
        last = pagination.keyset_page(conn, None, limit=3).items[-1]
    cursor = encode_cursor(last.created_at, last.id)
    assert decode_cursor(cursor) == (last.created_at, last.id)
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _b64(payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "not base64!",
        "x" * 500,
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
        _b64({"created_at": "2024-01-01T00:00:00+00:00"}),
        _b64(["2024-01-01T00:00:00+00:00"]),
        _b64(["yesterday", "9b0a6f2e-7e39-4d5f-8f4e-1d3a3c0b9e11"]),
        _b64(["2024-01-01T00:00:00+00:00", "not-a-uuid"]),
        _b64(["2024-01-01T00:00:00", "9b0a6f2e-7e39-4d5f-8f4e-1d3a3c0b9e11"]),
        _b64([1, 2]),
    ],
)
def test_tampered_cursor_is_a_clear_value_error(tied: Engine, cursor: str) -> None:
    with tied.connect() as conn, pytest.raises(InvalidCursorError, match="cursor"):
        pagination.keyset_page(conn, cursor, limit=5)
    assert issubclass(InvalidCursorError, ValueError)


@pytest.mark.parametrize("limit", [0, -1, 101, True])
def test_limit_is_bounded(tied: Engine, limit: int) -> None:
    with tied.connect() as conn:
        with pytest.raises(ValueError, match="limit"):
            pagination.keyset_page(conn, None, limit=limit)
        with pytest.raises(ValueError, match="limit"):
            pagination.offset_page(conn, 1, limit=limit)


@pytest.mark.parametrize("page", [0, -3])
def test_offset_page_rejects_page_below_one(tied: Engine, page: int) -> None:
    with tied.connect() as conn, pytest.raises(ValueError, match="page"):
        pagination.offset_page(conn, page, limit=5)


def test_rows_never_carry_password_hash(tied: Engine) -> None:
    with tied.connect() as conn:
        row = pagination.keyset_page(conn, None, limit=1).items[0]
    assert not hasattr(row, "password_hash")
    assert "password_hash" not in pagination.KEYSET_SQL + pagination.OFFSET_SQL
