"""Grading for exercise 01.6: PostgreSQL errors → gRPC statuses (exercises/01_api_design/grpc_status.py).

Every database error here is real: PostgreSQL raises it, SQLAlchemy wraps it, your function maps it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from types import ModuleType

import grpc
import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError

from reference.api_design.auth import Principal, StaticTokens
from reference.api_design.grpc.auth import bearer_channel
from reference.api_design.grpc.errors import status_for
from reference.api_design.grpc.gen.user.v1 import user_pb2, user_pb2_grpc
from reference.api_design.grpc.server import start_server
from reference.databases.models import UserRole

SECRET_WORDS = ("leaky_secret_table", "leaky_secret_key", "duplicate key", "violates", "relation")


@pytest.fixture
def db(pg_engine: Engine) -> Engine:
    with pg_engine.begin() as conn:
        conn.execute(text("CREATE TABLE leaky_secret_parent (id int PRIMARY KEY)"))
        conn.execute(
            text(
                "CREATE TABLE leaky_secret_table (id uuid PRIMARY KEY,"
                " email text CONSTRAINT leaky_secret_key UNIQUE,"
                " parent int REFERENCES leaky_secret_parent(id))"
            )
        )
        conn.execute(
            text("INSERT INTO leaky_secret_table VALUES (gen_random_uuid(), 'a@example.com', NULL)")
        )
    return pg_engine


def raised_by(engine: Engine, sql: str, timeout_ms: int | None = None) -> DBAPIError:
    try:
        with engine.begin() as conn:
            if timeout_ms is not None:
                conn.execute(text(f"SET LOCAL statement_timeout = {timeout_ms}"))
            conn.execute(text(sql))
    except DBAPIError as error:
        return error
    raise AssertionError(f"expected PostgreSQL to reject: {sql}")


CASES: dict[str, tuple[str, grpc.StatusCode]] = {
    "duplicate email": (
        "INSERT INTO leaky_secret_table VALUES (gen_random_uuid(), 'a@example.com', NULL)",
        grpc.StatusCode.ALREADY_EXISTS,
    ),
    "unknown parent": (
        "INSERT INTO leaky_secret_table VALUES (gen_random_uuid(), 'b@example.com', 42)",
        grpc.StatusCode.FAILED_PRECONDITION,
    ),
    "malformed uuid": (
        "SELECT * FROM leaky_secret_table WHERE id = 'nope'",
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    "serialization failure": (
        "DO $$ BEGIN RAISE EXCEPTION 'leaky_secret_table conflict' USING ERRCODE = '40001'; END $$",
        grpc.StatusCode.ABORTED,
    ),
    "deadlock": (
        "DO $$ BEGIN RAISE EXCEPTION 'leaky_secret_table deadlock' USING ERRCODE = '40P01'; END $$",
        grpc.StatusCode.ABORTED,
    ),
    # The SQLSTATE decides, never the text: a trigger may raise a unique violation in its own
    # words, a plain RAISE may quote a duplicate-key message, and a class 08 code is a connection
    # problem whatever it says.
    "unique violation in a trigger's words": (
        "DO $$ BEGIN RAISE EXCEPTION 'leaky_secret_table: address taken'"
        " USING ERRCODE = 'unique_violation'; END $$",
        grpc.StatusCode.ALREADY_EXISTS,
    ),
    "duplicate-key text from a plain RAISE": (
        "DO $$ BEGIN RAISE EXCEPTION"
        " 'duplicate key value violates unique constraint \"leaky_secret_key\"'; END $$",
        grpc.StatusCode.INTERNAL,
    ),
    "connection failure (class 08)": (
        "DO $$ BEGIN RAISE EXCEPTION 'leaky_secret_table link lost' USING ERRCODE = '08006'; END $$",
        grpc.StatusCode.UNAVAILABLE,
    ),
    "missing table": ("SELECT * FROM leaky_secret_table_gone", grpc.StatusCode.INTERNAL),
    "division by zero": ("SELECT 1 / 0 FROM leaky_secret_table", grpc.StatusCode.INTERNAL),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_database_error_gets_its_status(exercise: ModuleType, db: Engine, case: str) -> None:
    """Each real PostgreSQL error maps to the status in the table of the exercise's docstring, with
    that status's MESSAGES entry as the message. Decide by exc.orig.sqlstate, not by the error's
    text: the same failure can be worded many ways (a trigger's own message, another language),
    and a message can look like one failure while its SQLSTATE says another."""
    sql, expected = CASES[case]
    error = raised_by(db, sql)
    code, message = exercise.status_for_database_error(error)
    assert code == expected, (
        f"{case} (SQLSTATE {getattr(error.orig, 'sqlstate', None)}): expected {expected.name}"
    )
    assert message == exercise.MESSAGES[expected]


def test_statement_timeout_is_deadline_exceeded(exercise: ModuleType, db: Engine) -> None:
    """A query stopped by statement_timeout (SQLSTATE 57014) means the caller's deadline passed."""
    error = raised_by(db, "SELECT pg_sleep(2)", timeout_ms=20)
    assert exercise.status_for_database_error(error)[0] == grpc.StatusCode.DEADLINE_EXCEEDED


def test_refused_connection_is_unavailable(exercise: ModuleType) -> None:
    """No server answered (sqlstate is None): UNAVAILABLE tells the client to retry later."""
    engine = create_engine("postgresql+psycopg://course:course@127.0.0.1:1/none")
    try:
        with pytest.raises(DBAPIError) as failure, engine.connect():
            pass
    finally:
        engine.dispose()
    assert exercise.status_for_database_error(failure.value)[0] == grpc.StatusCode.UNAVAILABLE


def test_non_database_errors_are_internal(exercise: ModuleType) -> None:
    """An exception that is not a database error at all is INTERNAL with the generic message."""
    code, message = exercise.status_for_database_error(ZeroDivisionError("leaky_secret_key"))
    assert code == grpc.StatusCode.INTERNAL
    assert "leaky_secret_key" not in message


@pytest.mark.parametrize("case", list(CASES))
def test_no_exception_text_reaches_the_client(exercise: ModuleType, db: Engine, case: str) -> None:
    """The guide sent error.message to the client. Your message must contain none of the database's
    words: no table, constraint or driver text."""
    error = raised_by(db, CASES[case][0])
    _, message = exercise.status_for_database_error(error)
    for word in SECRET_WORDS:
        assert word not in message
    assert str(error.orig).splitlines()[0] not in message


@pytest.fixture
def served_by(exercise: ModuleType) -> Iterator[Callable[[str], user_pb2_grpc.UserServiceStub]]:
    """The reference gRPC server with YOUR mapping for database errors; calls come from an admin."""
    running: list[object] = []
    channels: list[grpc.Channel] = []

    def mapper(exc: BaseException) -> tuple[grpc.StatusCode, str]:
        if isinstance(exc, DBAPIError):
            return exercise.status_for_database_error(exc)  # type: ignore[no-any-return]
        return status_for(exc)

    def start(database_url: str) -> user_pb2_grpc.UserServiceStub:
        admin = StaticTokens({"admin-token": Principal(uuid.uuid4(), UserRole.ADMIN)})
        server = start_server(database_url, authenticator=admin, status_mapper=mapper)
        running.append(server)
        channel = bearer_channel(server.target, "admin-token")
        channels.append(channel)
        return user_pb2_grpc.UserServiceStub(channel)  # type: ignore[no-untyped-call]

    yield start
    for channel in channels:
        channel.close()
    for server in running:
        server.stop(0)  # type: ignore[attr-defined]


def test_in_a_live_server_an_unmigrated_database_is_a_generic_internal(
    served_by: Callable[[str], user_pb2_grpc.UserServiceStub], pg_url: str
) -> None:
    """Plugged into the reference servicer: a database without the users table answers INTERNAL,
    and the client's details say nothing about 'users' or relations."""
    stub = served_by(pg_url)
    with pytest.raises(grpc.RpcError) as failure:
        stub.GetUser(user_pb2.GetUserRequest(id=str(uuid.uuid4())), timeout=10)
    assert failure.value.code() == grpc.StatusCode.INTERNAL
    assert "relation" not in failure.value.details()
    assert "users" not in failure.value.details()


def test_in_a_live_server_a_refused_database_is_unavailable(
    served_by: Callable[[str], user_pb2_grpc.UserServiceStub],
) -> None:
    """Plugged into the reference servicer: PostgreSQL unreachable → UNAVAILABLE, no driver text."""
    stub = served_by("postgresql://course:course@127.0.0.1:1/none")
    with pytest.raises(grpc.RpcError) as failure:
        stub.GetUser(user_pb2.GetUserRequest(id=str(uuid.uuid4())), timeout=10)
    assert failure.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "refused" not in failure.value.details()
    assert "127.0.0.1" not in failure.value.details()
