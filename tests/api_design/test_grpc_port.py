"""The guide's gRPC code (``guide/api_design/grpc_port.py``, ``proto/user.proto``) shows each §1.7–1.8
defect; ``test_grpc.py`` and ``test_grpc_codegen.py`` show the reference without them."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import psycopg
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from sqlalchemy import Connection, Row, text

from guide.api_design.grpc_port import GUIDE_PROTO, GuideServer, find_by_id, start_guide_server
from reference.api_design.graphql.seed import Seeded, seed_users_with_orders
from reference.api_design.grpc.codegen import protoc_command, run_protoc
from reference.api_design.grpc.gen.user.v1 import user_pb2, user_pb2_grpc
from reference.config import REPO_ROOT
from reference.databases.migrate import upgrade


@pytest.fixture
def seeded(pg_url: str) -> Seeded:
    upgrade(pg_url)
    return seed_users_with_orders(pg_url, users=3, orders_per_user=0)


@pytest.fixture
def guide_server(pg_url: str, seeded: Seeded) -> Iterator[GuideServer]:
    running = start_guide_server(pg_url)
    yield running
    running.stop()


@pytest.fixture
def channel(guide_server: GuideServer) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(guide_server.target) as channel:
        yield channel


def rpc_error(call: Any) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as failure:
        call()
    return failure.value


def test_guide_proto_is_rejected_by_protoc(tmp_path: Path) -> None:
    """§1.7: Timestamp is used without its import and four messages are never defined."""
    proto = REPO_ROOT / GUIDE_PROTO
    args = protoc_command(tmp_path, proto_root=proto.parent)
    args[-1] = proto.name
    result = run_protoc(args, cwd=proto.parent)
    assert result.returncode != 0
    assert '"google.protobuf.Timestamp" is not defined' in result.stderr
    for undefined in ("ListUsersResponse", "CreateUserRequest", "StreamRequest", "UserUpdate"):
        assert f'"{undefined}" is not defined' in result.stderr
    assert not list(tmp_path.iterdir())


def test_guide_proto_is_not_versioned() -> None:
    """§1.7: package user; — no v1, so a breaking change has nowhere to go."""
    source = (REPO_ROOT / GUIDE_PROTO).read_text()
    assert "package user;" in source
    assert "package user.v1;" not in source


def test_guide_malformed_id_is_internal_with_the_database_error(
    channel: grpc.Channel,
) -> None:
    """§1.8: 'nope' reaches PostgreSQL as a uuid cast error, reported as INTERNAL with its text."""
    stub = user_pb2_grpc.UserServiceStub(channel)  # type: ignore[no-untyped-call]
    error = rpc_error(lambda: stub.GetUser(user_pb2.GetUserRequest(id="nope"), timeout=5))
    assert error.code() == grpc.StatusCode.INTERNAL
    assert "invalid input syntax for type uuid" in error.details()


def test_guide_database_failure_leaks_the_exception_text(pg_url: str) -> None:
    """§1.8: INTERNAL carries error.message — database name, host and driver text included."""
    broken = start_guide_server(pg_url.rsplit("/", 1)[0] + "/no_such_database_here")
    try:
        with grpc.insecure_channel(broken.target) as channel:
            stub = user_pb2_grpc.UserServiceStub(channel)  # type: ignore[no-untyped-call]
            error = rpc_error(
                lambda: stub.GetUser(user_pb2.GetUserRequest(id=str(uuid.uuid4())), timeout=10)
            )
    finally:
        broken.stop()
    assert error.code() == grpc.StatusCode.INTERNAL
    assert "no_such_database_here" in error.details()


def test_guide_unknown_id_is_not_found(channel: grpc.Channel) -> None:
    """The one status the guide got right."""
    stub = user_pb2_grpc.UserServiceStub(channel)  # type: ignore[no-untyped-call]
    error = rpc_error(
        lambda: stub.GetUser(user_pb2.GetUserRequest(id=str(uuid.uuid4())), timeout=5)
    )
    assert error.code() == grpc.StatusCode.NOT_FOUND


def test_guide_implements_only_get_user(channel: grpc.Channel) -> None:
    """§1.8: ListUsers and CreateUser are UNIMPLEMENTED."""
    stub = user_pb2_grpc.UserServiceStub(channel)  # type: ignore[no-untyped-call]
    listing = rpc_error(lambda: stub.ListUsers(user_pb2.ListUsersRequest(), timeout=5))
    creating = rpc_error(lambda: stub.CreateUser(user_pb2.CreateUserRequest(), timeout=5))
    assert listing.code() == grpc.StatusCode.UNIMPLEMENTED
    assert creating.code() == grpc.StatusCode.UNIMPLEMENTED


def test_guide_has_no_health_service(channel: grpc.Channel) -> None:
    """§1.8: a load balancer's health check gets UNIMPLEMENTED."""
    health = health_pb2_grpc.HealthStub(channel)
    error = rpc_error(lambda: health.Check(health_pb2.HealthCheckRequest(), timeout=5))
    assert error.code() == grpc.StatusCode.UNIMPLEMENTED


def slow_find(conn: Connection, user_id: str) -> Row[Any] | None:
    conn.execute(text("SELECT pg_sleep(3)"))
    return find_by_id(conn, user_id)


def test_guide_keeps_working_after_the_deadline(pg_url: str, seeded: Seeded) -> None:
    """§1.8: the client gives up after 50 ms, but the guide's query sleeps on in PostgreSQL."""
    slow = start_guide_server(pg_url, find=slow_find)
    try:
        with grpc.insecure_channel(slow.target) as channel:
            stub = user_pb2_grpc.UserServiceStub(channel)  # type: ignore[no-untyped-call]
            error = rpc_error(
                lambda: stub.GetUser(
                    user_pb2.GetUserRequest(id=str(seeded.user_ids[0])), timeout=0.05
                )
            )
            assert error.code() == grpc.StatusCode.DEADLINE_EXCEEDED
            time.sleep(1.0)
            with psycopg.connect(pg_url, autocommit=True) as conn:
                row = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND state = 'active' AND query LIKE '%%pg_sleep(3)%%'"
                    " AND pid <> pg_backend_pid()"
                ).fetchone()
            assert row == (1,)
    finally:
        slow.stop()
