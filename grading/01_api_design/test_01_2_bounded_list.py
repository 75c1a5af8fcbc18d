"""Grading for exercise 01.2: a bounded list with a true total (exercises/01_api_design/bounded_list.py).

The number of users changes on every run (so no count can be hard-coded), and the statements your
code sends are watched: the database must do the paging, and the page and the total must come from
one snapshot of the table.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, create_engine, event

from reference.api_design.seed import seed_cast, seed_users
from reference.config import to_sqlalchemy_url
from reference.databases.migrate import upgrade


@pytest.fixture
def total(pg_url: str) -> int:
    """A live PostgreSQL with 4 named users and 41-76 that share one created_at; how many in all."""
    upgrade(pg_url)
    seed_cast(pg_url)
    return seed_users(pg_url, random.randint(41, 76))


@pytest.fixture
def engine(pg_url: str, total: int) -> Iterator[Engine]:
    engine = create_engine(to_sqlalchemy_url(pg_url))
    yield engine
    engine.dispose()


@dataclass
class StatementLog:
    """Every statement sent through the engine, with how many rows it returned."""

    rows: list[tuple[str, int]] = field(default_factory=list)

    @property
    def most_rows(self) -> int:
        return max((count for _, count in self.rows), default=0)


@pytest.fixture
def statements(engine: Engine) -> Iterator[StatementLog]:
    log = StatementLog()

    def record(_conn: Any, cursor: Any, statement: str, *_args: Any) -> None:
        log.rows.append((statement, cursor.rowcount))

    event.listen(engine, "after_cursor_execute", record)
    yield log
    event.remove(engine, "after_cursor_execute", record)


@pytest.mark.parametrize(
    "query",
    [
        {"limit": "1000"},
        {"limit": "101"},
        {"limit": "0"},
        {"limit": "abc"},
        {"limit": "-5"},
        {"limit": "²"},
        {"page": "0"},
        {"page": "1.5"},
        {"page": "10000000000000000000"},
        {"sort": "password_hash"},
        {"sort": "passwordHash"},
        {"sort": "created_at; DROP TABLE users"},
    ],
    ids=lambda q: "&".join(f"{k}={v}" for k, v in q.items()),
)
def test_rejects_out_of_bounds_and_unknown_parameters(
    exercise: ModuleType, engine: Engine, query: dict[str, str]
) -> None:
    """limit must be 1..100, page 1..1,000,000, both written in ASCII digits (str.isdigit() also
    says yes to "²", which int() then refuses), and sort one of the allowed keys — anything else
    raises InvalidQuery (the API turns it into a 422), never a raw ValueError or a database error
    (a page of 10^19 makes OFFSET overflow bigint). Sorting by password_hash would let a caller
    learn hashes by ordering, so it must be refused."""
    with pytest.raises(exercise.InvalidQuery):
        exercise.list_users(engine, query)


def test_defaults_are_page_1_limit_20(exercise: ModuleType, engine: Engine, total: int) -> None:
    """With no parameters: the first 20 users, and meta says page 1, limit 20 as integers."""
    result = exercise.list_users(engine, {})
    assert result["meta"] == {"page": 1, "limit": 20, "total": total}
    assert len(result["data"]) == 20


def test_limit_100_is_allowed(exercise: ModuleType, engine: Engine, total: int) -> None:
    """The bound is inclusive: limit=100 is fine and returns everyone."""
    result = exercise.list_users(engine, {"limit": "100"})
    assert len(result["data"]) == total


def test_total_is_right_on_every_page(exercise: ModuleType, engine: Engine, total: int) -> None:
    """meta.total counts all users on every page — including a page past the end."""
    past_end = math.ceil(total / 10) + 1
    for page in (1, 3, past_end - 1, past_end):
        result = exercise.list_users(engine, {"page": str(page), "limit": "10"})
        assert result["meta"]["total"] == total, f"page {page}"
    assert exercise.list_users(engine, {"page": str(past_end), "limit": "10"})["data"] == []


@pytest.mark.parametrize("sort", ["created_at", "-created_at", "email", "-name"])
def test_walking_the_pages_visits_everyone_exactly_once(
    exercise: ModuleType, engine: Engine, total: int, sort: str
) -> None:
    """Most users share one created_at, so ordering by created_at alone lets the database return
    ties in any order — a row can appear on two pages and another on none. Break ties by id."""
    ids: list[str] = []
    for page in range(1, math.ceil(total / 5) + 2):
        query = {"page": str(page), "limit": "5", "sort": sort}
        ids += [u["id"] for u in exercise.list_users(engine, query)["data"]]
    assert len(ids) == total
    assert len(set(ids)) == total


def test_sort_direction(exercise: ModuleType, engine: Engine, total: int) -> None:
    """A leading '-' sorts descending."""
    emails = [
        u["email"] for u in exercise.list_users(engine, {"sort": "-email", "limit": "100"})["data"]
    ]
    assert emails == sorted(emails, reverse=True)
    names = [
        u["name"] for u in exercise.list_users(engine, {"sort": "name", "limit": "100"})["data"]
    ]
    numbered = [name for name in names if name.startswith("User ")]  # same order in any collation
    assert numbered == sorted(numbered)
    assert len(numbered) == total - 4


def test_users_are_public_views(exercise: ModuleType, engine: Engine) -> None:
    """Each user has id, email, name, status, role, created_at, updated_at — and never a password hash."""
    user = exercise.list_users(engine, {"limit": "1"})["data"][0]
    assert set(user) == {"id", "email", "name", "status", "role", "created_at", "updated_at"}


def test_the_database_does_the_paging(
    exercise: ModuleType, engine: Engine, total: int, statements: StatementLog
) -> None:
    """Asking for 5 users must not fetch all of them: no statement may return more than 5 rows.
    Fetching the whole table and slicing it (or counting it with len()) in Python moves every row
    on every request; let the database LIMIT/OFFSET the page and count(*) the total."""
    result = exercise.list_users(engine, {"page": "2", "limit": "5"})
    assert result["meta"]["total"] == total
    assert len(result["data"]) == 5
    assert statements.rows, "no statement went through the engine you were given"
    sent = "\n".join(f"{count:>4} rows  {sql}" for sql, count in statements.rows)
    assert statements.most_rows <= 5, f"a statement returned too many rows for a page of 5:\n{sent}"


def test_page_and_total_come_from_one_snapshot(
    exercise: ModuleType, engine: Engine, pg_url: str, total: int
) -> None:
    """Another client inserts a user right after your first query on users. Your page and your
    total must still describe the same table: with limit=100, len(data) == meta.total. Two
    statements at READ COMMITTED (or in two transactions) each see a different state; REPEATABLE
    READ gives the whole transaction the snapshot of its first statement."""
    inserted: list[str] = []

    def insert_after_first_read(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if inserted or "users" not in statement.lower():
            return
        with psycopg.connect(pg_url, autocommit=True) as other:
            other.execute(
                "INSERT INTO users (email, name, password_hash)"
                " VALUES ('late@example.com', 'Late', 'x')"
            )
        inserted.append(statement)

    event.listen(engine, "after_cursor_execute", insert_after_first_read)
    try:
        result = exercise.list_users(engine, {"limit": "100"})
    finally:
        event.remove(engine, "after_cursor_execute", insert_after_first_read)
    assert inserted, "no statement on users went through the engine you were given"
    assert result["meta"]["total"] in (total, total + 1)
    assert len(result["data"]) == result["meta"]["total"], (
        f"the page holds {len(result['data'])} users but meta.total says"
        f" {result['meta']['total']}: they were read from two states of the table"
    )
