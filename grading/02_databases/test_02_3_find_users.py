"""Grading for exercise 02.3: find_many (exercises/02_databases/find_users.py)."""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session

from reference.databases import migrate, seed


@pytest.fixture
def engine(pg_url: str, pg_engine: Engine) -> Engine:
    migrate.upgrade(pg_url)
    return pg_engine


def add_users(engine: Engine, *names: str) -> None:
    with engine.begin() as conn:
        for i, name in enumerate(names):
            conn.execute(
                text("INSERT INTO users (email, name, password_hash) VALUES (:e, :n, 'secret')"),
                {"e": f"member{i}@example.com", "n": name},
            )


def names(result: Any) -> list[str]:
    return sorted(item.name for item in result.items)


def test_percent_is_matched_literally(exercise: ModuleType, engine: Engine) -> None:
    """search="50%" finds only names containing the text "50%": "500 club" must not match. In a
    LIKE pattern % means "anything" unless you escape it."""
    add_users(engine, "50% off club", "500 club", "5000 reasons", "half 50%")
    with Session(engine) as session:
        result = exercise.find_many(session, search="50%")
    assert names(result) == ["50% off club", "half 50%"]
    assert result.total == 2


def test_underscore_is_matched_literally(exercise: ModuleType, engine: Engine) -> None:
    """search="a_b" finds "a_b" only, not "axb": _ is the LIKE wildcard for one character."""
    add_users(engine, "a_b", "axb")
    with Session(engine) as session:
        assert names(exercise.find_many(session, search="a_b")) == ["a_b"]


def test_search_ignores_case_and_covers_email(exercise: ModuleType, engine: Engine) -> None:
    """search matches name OR email, ignoring case: "aLiCe" finds "Alice Kim", and
    "MEMBER1@" finds the user whose email is member1@example.com."""
    add_users(engine, "Alice Kim", "Bob")
    with Session(engine) as session:
        assert names(exercise.find_many(session, search="aLiCe")) == ["Alice Kim"]
    with Session(engine) as session:
        assert names(exercise.find_many(session, search="MEMBER1@")) == ["Bob"]


def test_no_search_lists_everyone(exercise: ModuleType, engine: Engine) -> None:
    """search=None lists every user; total counts them all, not only this page."""
    with engine.begin() as conn:
        seed.seed_users(conn, 30)
    with Session(engine) as session:
        result = exercise.find_many(session, None, 1, 10)
    assert len(result.items) == 10
    assert result.total == 30
    assert (result.page, result.limit) == (1, 10)


def test_pages_are_stable_when_timestamps_tie(exercise: ModuleType, engine: Engine) -> None:
    """200 users created in groups of 10 with the same created_at, read 7 per page: every user
    appears exactly once, newest first and by id descending within a tie. Ordering by created_at
    alone leaves ties in whatever order the plan yields, so pages overlap."""
    with engine.begin() as conn:
        seed.seed_users(conn, 200, ties=10)
        expected = list(
            conn.execute(text("SELECT id FROM users ORDER BY created_at DESC, id DESC")).scalars()
        )
    seen = []
    for page in range(1, 30):
        with Session(engine) as session:
            seen += [item.id for item in exercise.find_many(session, page=page, limit=7).items]
    assert seen == expected


@pytest.mark.parametrize(
    ("page", "limit"), [(0, 20), (-2, 20), (1, 0), (1, 101), (1, 10**6), (10**18, 20)]
)
def test_bad_page_or_limit_raises_value_error(
    exercise: ModuleType, engine: Engine, page: int, limit: int
) -> None:
    """page starts at 1 and limit is 1…100: anything else raises ValueError before any query
    runs (page=0 must not turn into a negative OFFSET, and a huge limit must not be served). A page
    so deep that its OFFSET is past PostgreSQL's bigint (2^63 - 1) is a ValueError too, not the
    database's DataError ("bigint out of range"), which an API would answer with a 500."""
    with Session(engine) as session, pytest.raises(ValueError):  # noqa: PT011
        exercise.find_many(session, page=page, limit=limit)


def test_nul_in_search_raises_value_error(exercise: ModuleType, engine: Engine) -> None:
    """PostgreSQL text cannot hold NUL: a search containing one must be a ValueError before any
    query runs (an API answers 422), not psycopg's DataError from inside the query."""
    with Session(engine) as session, pytest.raises(ValueError):  # noqa: PT011
        exercise.find_many(session, search="ada\x00")


def test_password_hash_is_never_selected(exercise: ModuleType, engine: Engine) -> None:
    """No statement you send mentions password_hash, and the items have no such attribute:
    select the columns a list may show, not the whole row."""
    add_users(engine, "Alice")
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        with Session(engine) as session:
            result = exercise.find_many(session, search="ali")
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert statements, "no SQL was sent"
    assert not [s for s in statements if "password_hash" in s]
    assert not hasattr(result.items[0], "password_hash")


@pytest.fixture
def insert_between_queries(engine: Engine) -> Iterator[list[str]]:
    """Right after your FIRST statement that reads users — the page or the count, whichever you
    send first — another transaction commits a new, newest user."""
    fired: list[str] = []

    def hook(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not fired and "users" in statement.lower() and "insert" not in statement.lower():
            fired.append(statement)
            with engine.begin() as other:
                other.execute(
                    text(
                        "INSERT INTO users (email, name, password_hash) "
                        "VALUES ('late@example.com', 'Late', 'secret')"
                    )
                )

    event.listen(engine, "after_cursor_execute", hook)
    yield fired
    event.remove(engine, "after_cursor_execute", hook)


def test_total_and_page_share_one_snapshot(
    exercise: ModuleType, engine: Engine, insert_between_queries: list[str]
) -> None:
    """Between your first statement and the next, another transaction commits an 11th user, newer
    than all the others. Page and total must describe the same table: 10 users, the new one on
    neither — whether you count first or read the page first. At READ COMMITTED every statement
    sees a new snapshot; REPEATABLE READ keeps one for the whole transaction (or read both in one
    statement)."""
    with engine.begin() as conn:
        seed.seed_users(conn, 10)
    with Session(engine) as session:
        result = exercise.find_many(session, page=1, limit=5)
    assert insert_between_queries, "no statement reading users was sent"
    assert len(result.items) == 5
    assert "Late" not in [item.name for item in result.items], (
        "the page shows a user committed after your first statement read the table"
    )
    assert result.total == 10, "total counted a row committed after your first statement"


def test_no_statement_returns_more_than_a_page(exercise: ModuleType, engine: Engine) -> None:
    """The database pages and counts, not Python: with 60 users and a page of 5, no statement
    returns more than 5 rows. Fetching every match to len() it and slice the page moves the whole
    table for one page."""
    with engine.begin() as conn:
        seed.seed_users(conn, 60)
    returned: list[tuple[int, str]] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if cursor.description is not None:
            returned.append((cursor.rowcount, statement))

    event.listen(engine, "after_cursor_execute", record)
    try:
        with Session(engine) as session:
            result = exercise.find_many(session, page=3, limit=5)
    finally:
        event.remove(engine, "after_cursor_execute", record)
    assert (len(result.items), result.total) == (5, 60)
    too_many = [(rows, sql) for rows, sql in returned if rows > 5]
    assert not too_many, f"a statement returned {too_many[0][0]} rows for a page of 5"
