"""Grading for exercise 01.2: a bounded list with a true total (exercises/01_api_design/bounded_list.py)."""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType

import pytest
from sqlalchemy import Engine, create_engine

from course.harness.loader import load_exercise
from reference.api_design.seed import seed_cast, seed_users
from reference.config import to_sqlalchemy_url
from reference.databases.migrate import upgrade


@pytest.fixture
def exercise() -> ModuleType:
    return load_exercise("01.2")


@pytest.fixture
def engine(pg_url: str) -> Iterator[Engine]:
    """57 users in a live PostgreSQL: 4 named ones and 53 that share one created_at."""
    upgrade(pg_url)
    seed_cast(pg_url)
    seed_users(pg_url, 53)
    engine = create_engine(to_sqlalchemy_url(pg_url))
    yield engine
    engine.dispose()


@pytest.mark.parametrize(
    "query",
    [
        {"limit": "1000"},
        {"limit": "101"},
        {"limit": "0"},
        {"limit": "abc"},
        {"limit": "-5"},
        {"page": "0"},
        {"page": "1.5"},
        {"sort": "password_hash"},
        {"sort": "passwordHash"},
        {"sort": "created_at; DROP TABLE users"},
    ],
    ids=lambda q: "&".join(f"{k}={v}" for k, v in q.items()),
)
def test_rejects_out_of_bounds_and_unknown_parameters(
    exercise: ModuleType, engine: Engine, query: dict[str, str]
) -> None:
    """limit must be 1..100, page ≥ 1, both whole numbers, and sort one of the allowed keys —
    anything else raises InvalidQuery (the API turns it into a 422). Sorting by password_hash
    would let a caller learn hashes by ordering, so it must be refused."""
    with pytest.raises(exercise.InvalidQuery):
        exercise.list_users(engine, query)


def test_defaults_are_page_1_limit_20(exercise: ModuleType, engine: Engine) -> None:
    """With no parameters: the first 20 users, and meta says page 1, limit 20 as integers."""
    result = exercise.list_users(engine, {})
    assert result["meta"] == {"page": 1, "limit": 20, "total": 57}
    assert len(result["data"]) == 20


def test_limit_100_is_allowed(exercise: ModuleType, engine: Engine) -> None:
    """The bound is inclusive: limit=100 is fine and returns everyone (57)."""
    result = exercise.list_users(engine, {"limit": "100"})
    assert len(result["data"]) == 57


def test_total_is_right_on_every_page(exercise: ModuleType, engine: Engine) -> None:
    """meta.total counts all users on every page — including a page past the end."""
    for page in ("1", "3", "6", "9"):
        result = exercise.list_users(engine, {"page": page, "limit": "10"})
        assert result["meta"]["total"] == 57, f"page {page}"
    assert exercise.list_users(engine, {"page": "9", "limit": "10"})["data"] == []


@pytest.mark.parametrize("sort", ["created_at", "-created_at", "email", "-name"])
def test_walking_the_pages_visits_everyone_exactly_once(
    exercise: ModuleType, engine: Engine, sort: str
) -> None:
    """53 users share one created_at, so ordering by created_at alone lets the database return
    ties in any order — a row can appear on two pages and another on none. Break ties by id."""
    ids: list[str] = []
    for page in range(1, 13):
        ids += [
            u["id"]
            for u in exercise.list_users(engine, {"page": str(page), "limit": "5", "sort": sort})[
                "data"
            ]
        ]
    assert len(ids) == 57
    assert len(set(ids)) == 57


def test_sort_direction(exercise: ModuleType, engine: Engine) -> None:
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
    assert len(numbered) == 53


def test_users_are_public_views(exercise: ModuleType, engine: Engine) -> None:
    """Each user has id, email, name, status, role, created_at, updated_at — and never a password hash."""
    user = exercise.list_users(engine, {"limit": "1"})["data"][0]
    assert set(user) == {"id", "email", "name", "status", "role", "created_at", "updated_at"}
