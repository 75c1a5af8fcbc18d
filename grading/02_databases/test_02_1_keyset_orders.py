"""Grading for exercise 02.1: keyset pagination of orders (exercises/02_databases/keyset_orders.py)."""

from __future__ import annotations

import base64
import json
import string
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import Engine, event, text

from reference.databases import migrate, seed


@pytest.fixture
def orders(pg_url: str, pg_engine: Engine) -> Engine:
    """100 users with 10 orders each: 1,000 orders in groups of 10 sharing one created_at."""
    migrate.upgrade(pg_url)
    with pg_engine.begin() as conn:
        seed.seed_users(conn, 100)
        conn.execute(
            text(
                "INSERT INTO orders (user_id, total_cents, created_at) "
                "SELECT u.id, 100 * k, :epoch + (row_number() OVER (ORDER BY u.email, k) - 1) / 10 "
                "* interval '1 second' FROM users u CROSS JOIN generate_series(1, 10) AS k"
            ),
            {"epoch": seed.EPOCH},
        )
        conn.execute(text("ANALYZE orders"))
    return pg_engine


def expected_ids(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id FROM orders ORDER BY created_at DESC, id DESC"))
        return list(rows.scalars())


def walk(exercise: ModuleType, engine: Engine, limit: int) -> tuple[list[object], int]:
    ids: list[object] = []
    cursor = None
    pages = 0
    with engine.connect() as conn:
        while True:
            page, cursor = exercise.keyset_page(conn, cursor, limit)
            ids += [row["id"] for row in page]
            pages += 1
            if cursor is None or pages > 2_000:
                return ids, pages


def test_first_page_is_newest_first(exercise: ModuleType, orders: Engine) -> None:
    """The first page (cursor None) holds the `limit` newest orders, ordered by (created_at, id)
    descending, each a dict with the keys id, user_id, status, total_cents and created_at."""
    with orders.connect() as conn:
        page, cursor = exercise.keyset_page(conn, None, 5)
    assert [row["id"] for row in page] == expected_ids(orders)[:5]
    assert set(page[0]) >= {"id", "user_id", "status", "total_cents", "created_at"}
    assert cursor is not None, "there are more orders: next_cursor must not be None"


def test_ties_every_order_exactly_once(exercise: ModuleType, orders: Engine) -> None:
    """Paging through 1,000 orders 7 at a time, where every 10 orders share one created_at, must
    return every order exactly once, in (created_at, id) descending order. A cursor holding only
    created_at skips the rest of a tie group; `<=` instead of `<` repeats it."""
    ids, _ = walk(exercise, orders, 7)
    assert len(ids) == len(set(ids)), f"{len(ids) - len(set(ids))} orders came back twice"
    assert len(ids) == 1_000, f"{1_000 - len(ids)} orders were never shown"
    assert ids == expected_ids(orders)


def test_last_page_has_no_cursor_and_no_empty_page(exercise: ModuleType, orders: Engine) -> None:
    """1,000 orders at 100 a page are exactly 10 pages: the 10th has next_cursor None. Handing out
    a cursor that leads to an empty page costs the client a useless request."""
    ids, pages = walk(exercise, orders, 100)
    assert len(ids) == 1_000
    assert pages == 10


def test_cursor_is_opaque_and_url_safe(exercise: ModuleType, orders: Engine) -> None:
    """The cursor is a URL-safe token (letters, digits, - and _ only), not a raw timestamp that
    clients would start to parse or edit."""
    with orders.connect() as conn:
        _, cursor = exercise.keyset_page(conn, None, 3)
    assert isinstance(cursor, str)
    assert set(cursor) <= set(string.ascii_letters + string.digits + "-_="), cursor
    assert "2024" not in cursor


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "%%%not-a-cursor%%%",
        _b64(b"\xff\xfe\xfd"),
        _b64(b"not json"),
        _b64(json.dumps([1, 2, 3]).encode()),
        _b64(json.dumps({"t": "yesterday", "id": "x"}).encode()),
        _b64(json.dumps(["2024-01-01T00:00:00+00:00", "not-a-uuid"]).encode()),
        _b64(b"[" * 5_000),
    ],
    ids=["garbage", "binary", "not-json", "wrong-shape", "bad-values", "bad-id", "deeply-nested"],
)
def test_tampered_cursor_raises_invalid_cursor_error(
    exercise: ModuleType, orders: Engine, cursor: str
) -> None:
    """A cursor your API did not issue must raise InvalidCursorError (a ValueError, so an API can
    answer 422) — never a database error, a KeyError, or a silently wrong page. A cursor your API
    issues is short: 5,000 nested brackets make json.loads raise RecursionError, so refuse a cursor
    longer than any you hand out before decoding it."""
    with orders.connect() as conn, pytest.raises(exercise.InvalidCursorError):
        exercise.keyset_page(conn, cursor, 5)
    assert issubclass(exercise.InvalidCursorError, ValueError)


def test_truncated_cursor_raises_invalid_cursor_error(exercise: ModuleType, orders: Engine) -> None:
    """A real cursor cut short (a copy-paste accident) must raise InvalidCursorError too."""
    with orders.connect() as conn:
        _, cursor = exercise.keyset_page(conn, None, 3)
        assert cursor is not None
        with pytest.raises(exercise.InvalidCursorError):
            exercise.keyset_page(conn, cursor[: len(cursor) // 2], 5)


@pytest.mark.parametrize("limit", [0, -5, 101])
def test_limit_out_of_bounds_is_a_value_error(
    exercise: ModuleType, orders: Engine, limit: int
) -> None:
    """limit must be between 1 and MAX_LIMIT (100): anything else raises ValueError, so a client
    cannot ask for a million rows or for none."""
    with orders.connect() as conn, pytest.raises(ValueError):  # noqa: PT011
        exercise.keyset_page(conn, None, limit)


@pytest.fixture
def sent(orders: Engine) -> Iterator[list[tuple[str, Any, int]]]:
    """Every statement your code sends: (SQL, parameters, rows it returned)."""
    log: list[tuple[str, Any, int]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        log.append((statement, parameters, cursor.rowcount))

    event.listen(orders, "after_cursor_execute", record)
    yield log
    event.remove(orders, "after_cursor_execute", record)


def plan_nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from plan_nodes(child)


def test_next_page_seeks_on_the_index(
    exercise: ModuleType, orders: Engine, sent: list[tuple[str, Any, int]]
) -> None:
    """A page after a cursor must be one seek on the index ix_orders_created_at_id (migration
    0003): EXPLAIN of the statement you send shows an Index Scan on it with an Index Cond — the
    row comparison (created_at, id) < (:t, :id) — no Sort and no OFFSET, and it returns at most
    limit + 1 rows. An OFFSET (even hidden in the cursor), `created_at < :t OR (created_at = :t
    AND id < :id)` (PostgreSQL cannot seek on that OR: it walks the index from the newest row and
    filters) or slicing in Python all read every row before the page, so page 10,000 costs 10,000
    pages."""
    with orders.connect() as conn:
        cursor = None
        for _page in range(30):  # then page 31: 210 orders lie before it
            _rows, cursor = exercise.keyset_page(conn, cursor, 7)
        sent.clear()
        page, _ = exercise.keyset_page(conn, cursor, 7)
        statements = [(sql, params, rows) for sql, params, rows in sent if "orders" in sql.lower()]
        assert [row["id"] for row in page] == expected_ids(orders)[210:217]
        assert statements, "no statement on orders was sent for the page"
        for sql, _, rows in statements:
            assert "offset" not in sql.lower(), f"the page is read with OFFSET: {sql}"
            assert rows <= 8, f"a statement returned {rows} rows for a page of 7: {sql}"
        scans = []
        for sql, params, _ in statements:
            plan = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + sql, params).scalar_one()
            nodes = list(plan_nodes(plan[0]["Plan"]))
            assert not [n for n in nodes if n["Node Type"] in ("Sort", "Incremental Sort")], (
                f"the page is sorted, not read in index order: {sql}"
            )
            scans += [
                n
                for n in nodes
                if n["Node Type"] in ("Index Scan", "Index Only Scan")
                and n.get("Index Name") == "ix_orders_created_at_id"
                and "Index Cond" in n
            ]
    assert scans, (
        "no statement seeks on ix_orders_created_at_id: use WHERE (created_at, id) < (:t, :id) "
        "ORDER BY created_at DESC, id DESC"
    )


def test_insert_before_the_cursor_does_not_shift_the_next_page(
    exercise: ModuleType, orders: Engine
) -> None:
    """While a client reads page 1, three new orders arrive (newer than every order on it). Page 2
    must be exactly the orders that followed page 1 — a cursor is a position, not a count: with an
    OFFSET the new rows push the last three orders of page 1 onto page 2 again."""
    before = expected_ids(orders)
    with orders.connect() as conn:
        first, cursor = exercise.keyset_page(conn, None, 5)
    with orders.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO orders (user_id, total_cents, created_at) "
                "SELECT id, 1, now() FROM users ORDER BY email LIMIT 3"
            )
        )
    with orders.connect() as conn:
        second, _ = exercise.keyset_page(conn, cursor, 5)
    assert [row["id"] for row in first] == before[:5]
    shown = {row["id"] for row in first}
    repeated = [row["id"] for row in second if row["id"] in shown]
    assert not repeated, f"{len(repeated)} orders of page 1 came back on page 2"
    assert [row["id"] for row in second] == before[5:10]
