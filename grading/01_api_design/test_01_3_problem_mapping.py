"""Grading for exercise 01.3: exception → problem details (exercises/01_api_design/problem_mapping.py)."""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Callable
from types import ModuleType

import psycopg
import pydantic
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError, OperationalError

from reference.api_design.problems import Problem, TooManyRequests, Unauthorized
from reference.config import to_sqlalchemy_url
from reference.databases.migrate import upgrade

# A fake secret, new on every run, that the errors below carry (in their message, the input, or the
# row PostgreSQL quotes in its DETAIL): no problem document may repeat it.
TOKEN = f"leak{secrets.token_hex(6)}"
SECRET = f"password={TOKEN} at db-internal.example:5432"


def integrity_error(pg_url: str, statement: str) -> IntegrityError:
    """Make live PostgreSQL raise a real IntegrityError."""
    engine = create_engine(to_sqlalchemy_url(pg_url))
    try:
        with engine.begin() as connection:
            connection.execute(text(statement))
    except IntegrityError as error:
        return error
    finally:
        engine.dispose()
    raise AssertionError(f"{statement} did not fail")


def validation_error() -> pydantic.ValidationError:
    class Body(pydantic.BaseModel):
        limit: int = pydantic.Field(le=100)

    try:
        Body.model_validate({"limit": SECRET})
    except pydantic.ValidationError as error:
        return error
    raise AssertionError("unreachable")


def operational_error(pg_url: str) -> OperationalError:
    engine = create_engine(to_sqlalchemy_url(pg_url.rsplit("/", 1)[0] + f"/no_such_{TOKEN}"))
    try:
        with engine.connect():
            pass
    except OperationalError as error:
        return error
    finally:
        engine.dispose()
    raise AssertionError("connected to a database that does not exist")


@pytest.fixture
def db(pg_url: str) -> str:
    """A migrated live database with one user, for real constraint violations."""
    upgrade(pg_url)
    with psycopg.connect(pg_url) as connection:
        connection.execute(
            "INSERT INTO users (email, name, password_hash) VALUES (%s, 'A', 'x')",
            (f"{TOKEN}@example.com",),
        )
    return pg_url


INSERT = "INSERT INTO users (email, name, password_hash) VALUES ('{email}', 'B', 'x')"
ROWS: list[tuple[str, Callable[[str], BaseException], int, dict[str, str]]] = [
    ("json syntax", lambda db: json.JSONDecodeError("Expecting value", SECRET, 1), 400, {}),
    ("permission", lambda db: PermissionError(SECRET), 403, {}),
    ("lookup", lambda db: KeyError(SECRET), 404, {}),
    (
        "unique violation",
        lambda db: integrity_error(db, INSERT.format(email=f"{TOKEN.upper()}@EXAMPLE.com")),
        409,
        {},
    ),
    (
        "foreign key violation",
        lambda db: integrity_error(
            db, f"INSERT INTO orders (user_id, total_cents) VALUES ('{uuid.uuid4()}', 1)"
        ),
        409,
        {},
    ),
    (
        "check violation",
        lambda db: integrity_error(
            db, "INSERT INTO orders (user_id, total_cents) SELECT id, -1 FROM users"
        ),
        422,
        {},
    ),
    (
        "not-null violation",
        lambda db: integrity_error(
            db,
            "INSERT INTO users (email, name, password_hash)"
            f" VALUES ('{TOKEN}.2@example.com', NULL, 'x')",
        ),
        422,
        {},
    ),
    ("validation", lambda db: validation_error(), 422, {}),
    ("database down", operational_error, 503, {"Retry-After": ""}),
    ("timeout", lambda db: TimeoutError(SECRET), 503, {"Retry-After": ""}),
    ("unauthorized", lambda db: Unauthorized(), 401, {"WWW-Authenticate": "Bearer"}),
    ("rate limited", lambda db: TooManyRequests(retry_after=2.2), 429, {"Retry-After": "3"}),
    ("anything else", lambda db: RuntimeError(SECRET), 500, {}),
]


@pytest.mark.parametrize(
    ("make_error", "status", "headers"),
    [pytest.param(make, status, headers, id=name) for name, make, status, headers in ROWS],
)
def test_exception_to_problem_table(
    exercise: ModuleType,
    db: str,
    make_error: Callable[[str], BaseException],
    status: int,
    headers: dict[str, str],
) -> None:
    """Each exception must become the status in the table, with the headers that status requires:
    401 names the Bearer scheme, 429 and 503 say when to retry in whole seconds. A validation
    failure is 422 (the guide's validate() said 400); malformed JSON is 400. Integrity errors go by
    SQLSTATE: unique and foreign-key 409, check and not-null 422."""
    problem = exercise.problem_for(make_error(db))
    assert isinstance(problem, Problem), "return a reference.api_design.problems.Problem"
    assert problem.status == status
    for name, prefix in headers.items():
        assert name in problem.headers, f"a {status} needs a {name} header"
        assert problem.headers[name].startswith(prefix)
        if name == "Retry-After":
            assert problem.headers[name].isdigit(), "Retry-After is an integer number of seconds"
    body = problem.body("/users/42")
    assert body["status"] == status
    assert {"type", "title", "status", "instance"} <= body.keys()


@pytest.mark.parametrize("name", [row[0] for row in ROWS])
def test_no_problem_leaks_the_exception_text(exercise: ModuleType, db: str, name: str) -> None:
    """Exception messages can hold secrets: a connection string with a password, the database's
    name, or — in PostgreSQL's DETAIL line — another user's e-mail ("Key (lower(email))=(…) already
    exists"). No part of the problem document (detail, title, extensions, headers) may repeat the
    exception's text or echo invalid input: write your own detail for each status."""
    make = next(make for row_name, make, _, _ in ROWS if row_name == name)
    problem = exercise.problem_for(make(db))
    shown = json.dumps(problem.body("/x")) + json.dumps(dict(problem.headers))
    assert TOKEN not in shown.lower(), f"the problem repeats the exception's text: {shown}"


def test_validation_lists_the_errors(exercise: ModuleType) -> None:
    """A 422 from a pydantic error carries "errors": one {loc, msg, type} per failure, so a client
    can point at the field."""
    problem = exercise.problem_for(validation_error())
    errors = problem.body()["errors"]
    assert errors[0]["loc"] == ["limit"]
    assert {"loc", "msg", "type"} <= errors[0].keys()
