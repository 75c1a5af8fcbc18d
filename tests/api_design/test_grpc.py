"""The reference ``user.v1.UserService`` against a real in-process server and a real channel.

Calls carry the admin's bearer token (``grpc_as`` in conftest); who may call what is in
``test_grpc_auth.py``, hostile input in ``test_grpc_hostile.py``. Status codes (§1.8): INVALID_ARGUMENT for malformed input, NOT_FOUND, ALREADY_EXISTS,
DEADLINE_EXCEEDED with the server actually stopping work, INTERNAL without exception text; plus
opaque page tokens, the update stream and the standard health service.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC

import grpc
import psycopg
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from sqlalchemy import Connection, create_engine, text

from reference.api_design.graphql.events import wait_for_listeners
from reference.api_design.grpc.auth import bearer_channel
from reference.api_design.grpc.gen.user.v1 import user_pb2, user_pb2_grpc
from reference.api_design.grpc.repository import (
    USER_UPDATES_CHANNEL,
    UserRecord,
    UserRepository,
    publish_user_update,
)
from reference.api_design.grpc.server import RunningServer, start_server
from reference.api_design.seed import Cast, seed_users
from reference.config import to_sqlalchemy_url

PASSWORD = "correct horse battery staple"


@contextmanager
def sa_connection(pg_url: str) -> Iterator[Connection]:
    engine = create_engine(to_sqlalchemy_url(pg_url))
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


@pytest.fixture
def stub(grpc_as: Callable[[str], user_pb2_grpc.UserServiceStub]) -> user_pb2_grpc.UserServiceStub:
    """The admin's stub: these tests are about status codes, not about who may call."""
    return grpc_as("admin")


@pytest.fixture
def channel(grpc_server: RunningServer) -> Iterator[grpc.Channel]:
    """A channel without credentials: the health service answers anyone (probes have no token)."""
    with grpc.insecure_channel(grpc_server.target) as channel:
        yield channel


@contextmanager
def admin_stub(running: RunningServer, cast: Cast) -> Iterator[user_pb2_grpc.UserServiceStub]:
    with bearer_channel(running.target, cast.token("admin")) as channel:
        yield user_pb2_grpc.UserServiceStub(channel)  # type: ignore[no-untyped-call]


def rpc_error(call: object) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as failure:
        call()  # type: ignore[operator]
    return failure.value


def test_get_user_returns_the_row_with_its_timestamp(
    stub: user_pb2_grpc.UserServiceStub, cast: Cast, pg_url: str
) -> None:
    """GetUser returns the user; created_at survives the trip as a google.protobuf.Timestamp."""
    alice = cast.principals["alice"].user_id
    user = stub.GetUser(user_pb2.GetUserRequest(id=str(alice)), timeout=5)
    with psycopg.connect(pg_url) as conn:
        row = conn.execute("SELECT email, created_at FROM users WHERE id = %s", (alice,)).fetchone()
    assert row is not None
    assert (user.id, user.email, user.name) == (str(alice), row[0], "alice")
    assert user.status == user_pb2.USER_STATUS_ACTIVE
    assert user.created_at.ToDatetime(tzinfo=UTC) == row[1]


@pytest.mark.parametrize("bad_id", ["nope", "", "1; DROP TABLE users", "x" * 500])
def test_malformed_id_is_invalid_argument(stub: user_pb2_grpc.UserServiceStub, bad_id: str) -> None:
    """§1.8: a malformed id is the client's mistake (INVALID_ARGUMENT), not a server INTERNAL."""
    error = rpc_error(lambda: stub.GetUser(user_pb2.GetUserRequest(id=bad_id), timeout=5))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "UUID" in error.details()


def test_unknown_id_is_not_found(stub: user_pb2_grpc.UserServiceStub) -> None:
    """A well-formed id with no row is NOT_FOUND."""
    error = rpc_error(
        lambda: stub.GetUser(user_pb2.GetUserRequest(id=str(uuid.uuid4())), timeout=5)
    )
    assert error.code() == grpc.StatusCode.NOT_FOUND


def test_list_users_pages_with_opaque_tokens(
    stub: user_pb2_grpc.UserServiceStub, cast: Cast, api_db: str
) -> None:
    """Pages of 2 walk all 6 users exactly once; the last page has no next_page_token."""
    assert seed_users(api_db, 2) == 6
    seen: list[str] = []
    token = ""
    pages = 0
    while True:
        page = stub.ListUsers(user_pb2.ListUsersRequest(page_size=2, page_token=token), timeout=5)
        seen += [u.id for u in page.users]
        pages += 1
        token = page.next_page_token
        if not token:
            break
        assert str(cast.principals["alice"].user_id) not in token  # opaque: not the raw id
    assert pages == 3
    assert len(seen) == len(set(seen)) == 6


def test_page_size_zero_means_default_and_huge_is_coerced(
    stub: user_pb2_grpc.UserServiceStub, api_db: str
) -> None:
    """AIP-158: page_size 0 → default 50; 1000 → at most 100; negative → INVALID_ARGUMENT."""
    seed_users(api_db, 150)
    default = stub.ListUsers(user_pb2.ListUsersRequest(), timeout=5)
    huge = stub.ListUsers(user_pb2.ListUsersRequest(page_size=1000), timeout=5)
    assert len(default.users) == 50
    assert len(huge.users) == 100
    assert huge.next_page_token
    negative = rpc_error(lambda: stub.ListUsers(user_pb2.ListUsersRequest(page_size=-1), timeout=5))
    assert negative.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_forged_page_token_is_invalid_argument(stub: user_pb2_grpc.UserServiceStub) -> None:
    """A token this service never issued is INVALID_ARGUMENT."""
    error = rpc_error(
        lambda: stub.ListUsers(user_pb2.ListUsersRequest(page_token="bogus!"), timeout=5)
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_create_user_then_duplicate_email_is_already_exists(
    stub: user_pb2_grpc.UserServiceStub,
) -> None:
    """CreateUser returns the new user; the same email in another case is ALREADY_EXISTS."""
    created = stub.CreateUser(
        user_pb2.CreateUserRequest(email="ada@example.com", name="Ada", password=PASSWORD),
        timeout=5,
    )
    assert uuid.UUID(created.id)
    assert created.created_at.seconds > 0
    error = rpc_error(
        lambda: stub.CreateUser(
            user_pb2.CreateUserRequest(email="ADA@example.com", name="Ada", password=PASSWORD),
            timeout=5,
        )
    )
    assert error.code() == grpc.StatusCode.ALREADY_EXISTS


@pytest.mark.parametrize(
    ("email", "name", "password"),
    [
        ("not-an-email", "Ada", PASSWORD),
        ("a@example.com", "", PASSWORD),
        ("a@example.com", "A", "x"),
    ],
)
def test_create_user_validates_input(
    stub: user_pb2_grpc.UserServiceStub, email: str, name: str, password: str
) -> None:
    """Bad email, empty name and short password are INVALID_ARGUMENT with a reason."""
    error = rpc_error(
        lambda: stub.CreateUser(
            user_pb2.CreateUserRequest(email=email, name=name, password=password), timeout=5
        )
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details()


def test_database_failure_is_internal_without_exception_text(pg_url: str, cast: Cast) -> None:
    """§1.8: when PostgreSQL fails, the client gets INTERNAL and a generic message — no driver text."""
    broken = start_server(
        pg_url.rsplit("/", 1)[0] + "/no_such_database_here", authenticator=cast.authenticator
    )
    try:
        with admin_stub(broken, cast) as stub:
            error = rpc_error(
                lambda: stub.GetUser(user_pb2.GetUserRequest(id=str(uuid.uuid4())), timeout=10)
            )
    finally:
        broken.stop(0)
    assert error.code() == grpc.StatusCode.INTERNAL
    details = error.details()
    assert details.startswith("internal error")
    for leak in ("no_such_database_here", "does not exist", "psycopg", "connection", "127.0.0.1"):
        assert leak not in details


class SlowRepository(UserRepository):
    """A real slow query: three seconds of pg_sleep before the lookup."""

    def get(self, conn: Connection, user_id: uuid.UUID) -> UserRecord | None:
        conn.execute(text("SELECT pg_sleep(3)"))
        return super().get(conn, user_id)


def active_sleeps(pg_url: str) -> int:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND state = 'active' AND query LIKE '%%pg_sleep(3)%%' AND pid <> pg_backend_pid()"
        ).fetchone()
    return int(row[0]) if row else 0


def test_deadline_exceeded_and_the_server_stops_the_query(pg_url: str, cast: Cast) -> None:
    """§1.8: a 50 ms deadline on a 3 s call → DEADLINE_EXCEEDED, and the query is cancelled."""
    slow = start_server(pg_url, authenticator=cast.authenticator, repository=SlowRepository())
    alice = cast.principals["alice"].user_id
    try:
        with admin_stub(slow, cast) as stub:
            started = time.monotonic()
            error = rpc_error(
                lambda: stub.GetUser(user_pb2.GetUserRequest(id=str(alice)), timeout=0.05)
            )
            assert error.code() == grpc.StatusCode.DEADLINE_EXCEEDED
            assert time.monotonic() - started < 1
            still_running = active_sleeps(pg_url)
            deadline = time.monotonic() + 1.0
            while still_running and time.monotonic() < deadline:
                time.sleep(0.05)
                still_running = active_sleeps(pg_url)
            assert still_running == 0  # the guide's server would still be sleeping
    finally:
        slow.stop(0)


def test_health_service_reports_serving_then_not_serving(
    channel: grpc.Channel, grpc_server: RunningServer
) -> None:
    """grpc.health.v1: SERVING for the server and the service; NOT_SERVING once draining."""
    health = health_pb2_grpc.HealthStub(channel)
    for name in ("", "user.v1.UserService"):
        reply = health.Check(health_pb2.HealthCheckRequest(service=name), timeout=5)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
    unknown = rpc_error(
        lambda: health.Check(health_pb2.HealthCheckRequest(service="nope.v1.Nope"), timeout=5)
    )
    assert unknown.code() == grpc.StatusCode.NOT_FOUND
    grpc_server.health.enter_graceful_shutdown()
    reply = health.Check(health_pb2.HealthCheckRequest(service="user.v1.UserService"), timeout=5)
    assert reply.status == health_pb2.HealthCheckResponse.NOT_SERVING


def test_stream_user_updates_filters_and_ends_on_cancel(
    stub: user_pb2_grpc.UserServiceStub, cast: Cast, pg_url: str
) -> None:
    """An unfiltered stream sees a CreateUser; a stream filtered to alice sees only alice."""
    alice = cast.principals["alice"].user_id
    everything = stub.StreamUserUpdates(user_pb2.StreamUserUpdatesRequest())
    only_first = stub.StreamUserUpdates(user_pb2.StreamUserUpdatesRequest(user_ids=[str(alice)]))
    received: dict[str, user_pb2.UserUpdate] = {}
    readers = [
        threading.Thread(target=lambda: received.setdefault("all", next(everything))),
        threading.Thread(target=lambda: received.setdefault("first", next(only_first))),
    ]
    for reader in readers:
        reader.start()
    try:
        assert wait_for_listeners(pg_url, USER_UPDATES_CHANNEL, count=2) == 2
        stub.CreateUser(
            user_pb2.CreateUserRequest(email="new@example.com", name="New", password=PASSWORD),
            timeout=5,
        )
        with psycopg.connect(pg_url) as conn:
            conn.execute("UPDATE users SET name = 'Renamed' WHERE id = %s", (alice,))
        record = UserRepository()
        with sa_connection(pg_url) as conn:
            found = record.get(conn, alice)
            assert found is not None
            publish_user_update(conn, found, "updated")
            conn.commit()
        for reader in readers:
            reader.join(5)
    finally:
        everything.cancel()
        only_first.cancel()
    assert received["all"].kind == user_pb2.UserUpdate.KIND_CREATED
    assert received["all"].user.email == "new@example.com"
    assert received["first"].kind == user_pb2.UserUpdate.KIND_UPDATED
    assert received["first"].user.name == "Renamed"
    deadline = time.monotonic() + 3
    while wait_for_listeners(pg_url, USER_UPDATES_CHANNEL, 1, timeout=0) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.05)
    assert wait_for_listeners(pg_url, USER_UPDATES_CHANNEL, 1, timeout=0) == 0
