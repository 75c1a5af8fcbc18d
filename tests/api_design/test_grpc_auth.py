"""Who may call the gRPC user service: the REST app's bearer tokens and ownership rules.

Every call is authenticated from ``authorization`` metadata with the same ``parse_bearer`` and
authenticator as REST and GraphQL (UNAUTHENTICATED otherwise), and authorised by the same policy
(``reference.api_design.policy``): plain users read only their own record, managers and admins list,
only admins create; a record the caller may not read is NOT_FOUND, as REST's 404. The guide's
server (and this one before issue 8) let an anonymous caller list every user's email.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import grpc
import psycopg
import pytest
from fastapi.testclient import TestClient
from grpc_health.v1 import health_pb2, health_pb2_grpc

from reference.api_design.graphql.events import wait_for_listeners
from reference.api_design.grpc.auth import bearer_channel
from reference.api_design.grpc.gen.user.v1 import user_pb2, user_pb2_grpc
from reference.api_design.grpc.repository import USER_UPDATES_CHANNEL
from reference.api_design.grpc.server import RunningServer
from reference.api_design.seed import Cast

PASSWORD = "correct horse battery staple"
StubFor = Callable[[str], user_pb2_grpc.UserServiceStub]


@pytest.fixture
def anonymous(grpc_server: RunningServer) -> Iterator[user_pb2_grpc.UserServiceStub]:
    with grpc.insecure_channel(grpc_server.target) as channel:
        yield user_pb2_grpc.UserServiceStub(channel)  # type: ignore[no-untyped-call]


def rpc_error(call: Callable[[], object]) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as failure:
        call()
    return failure.value


def user_count(api_db: str) -> int:
    with psycopg.connect(api_db) as conn:
        row = conn.execute("SELECT count(*) FROM users").fetchone()
    return int(row[0]) if row else 0


def every_rpc(stub: user_pb2_grpc.UserServiceStub, cast: Cast) -> dict[str, Callable[[], object]]:
    alice = str(cast.principals["alice"].user_id)
    new = user_pb2.CreateUserRequest(email="mallory@example.com", name="Mallory", password=PASSWORD)
    return {
        "GetUser": lambda: stub.GetUser(user_pb2.GetUserRequest(id=alice), timeout=5),
        "ListUsers": lambda: stub.ListUsers(user_pb2.ListUsersRequest(), timeout=5),
        "CreateUser": lambda: stub.CreateUser(new, timeout=5),
        "StreamUserUpdates": lambda: next(
            stub.StreamUserUpdates(user_pb2.StreamUserUpdatesRequest(), timeout=5)
        ),
    }


@pytest.mark.parametrize("rpc", ["GetUser", "ListUsers", "CreateUser", "StreamUserUpdates"])
def test_a_call_without_credentials_is_unauthenticated(
    anonymous: user_pb2_grpc.UserServiceStub, cast: Cast, api_db: str, rpc: str
) -> None:
    """No authorization metadata: UNAUTHENTICATED before any work (no row listed, none created)."""
    error = rpc_error(every_rpc(anonymous, cast)[rpc])
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED, error.details()
    assert "Bearer" in error.details()
    assert user_count(api_db) == 4


@pytest.mark.parametrize(
    "metadata",
    [
        (("authorization", "Bearer not-a-token"),),
        (("authorization", "Basic YWRtaW46YWRtaW4="),),
        (("authorization", "admin-token"),),
        (("authorization", "Bearer admin-token extra"),),
        (("authorization", "Bearer admin-token"), ("authorization", "Bearer admin-token")),
    ],
    ids=["unknown token", "basic scheme", "no scheme", "two tokens", "two headers"],
)
def test_bad_credentials_are_unauthenticated(
    anonymous: user_pb2_grpc.UserServiceStub, metadata: tuple[tuple[str, str], ...]
) -> None:
    """The header is parsed by REST's RFC 6750 grammar: only exactly one valid bearer token counts."""
    error = rpc_error(
        lambda: anonymous.ListUsers(user_pb2.ListUsersRequest(), metadata=metadata, timeout=5)
    )
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED


def test_the_health_service_needs_no_credentials(grpc_server: RunningServer) -> None:
    """Load balancers and Kubernetes probe without a token; health stays open."""
    with grpc.insecure_channel(grpc_server.target) as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service="user.v1.UserService"), timeout=5
        )
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


def test_a_user_reads_only_their_own_record(grpc_as: StubFor, cast: Cast) -> None:
    """alice gets her record (with her email); bob's is NOT_FOUND — REST's 404, existence hidden."""
    alice = grpc_as("alice")
    own = alice.GetUser(
        user_pb2.GetUserRequest(id=str(cast.principals["alice"].user_id)), timeout=5
    )
    assert own.email == "alice@example.com"
    error = rpc_error(
        lambda: alice.GetUser(
            user_pb2.GetUserRequest(id=str(cast.principals["bob"].user_id)), timeout=5
        )
    )
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert "bob" not in error.details()


@pytest.mark.parametrize(("who", "allowed"), [("alice", False), ("manager", True), ("admin", True)])
def test_listing_users_needs_the_manager_or_admin_role(
    grpc_as: StubFor, who: str, allowed: bool
) -> None:
    """ListUsers (every user's email) is for managers and admins; a plain user gets
    PERMISSION_DENIED, as REST's GET /users gives 403."""

    def call() -> object:
        return grpc_as(who).ListUsers(user_pb2.ListUsersRequest(), timeout=5)

    if allowed:
        page = call()
        assert isinstance(page, user_pb2.ListUsersResponse)
        assert len(page.users) == 4
    else:
        assert rpc_error(call).code() == grpc.StatusCode.PERMISSION_DENIED


@pytest.mark.parametrize("who", ["alice", "manager"])
def test_only_an_admin_creates_users(grpc_as: StubFor, api_db: str, who: str) -> None:
    """CreateUser by a user or a manager is PERMISSION_DENIED and writes nothing; an admin creates."""
    request = user_pb2.CreateUserRequest(email="eve@example.com", name="Eve", password=PASSWORD)
    error = rpc_error(lambda: grpc_as(who).CreateUser(request, timeout=5))
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    assert user_count(api_db) == 4
    assert grpc_as("admin").CreateUser(request, timeout=5).email == "eve@example.com"


def test_a_user_may_not_follow_someone_elses_updates(grpc_as: StubFor, cast: Cast) -> None:
    """A stream filtered to bob's id, opened by alice, is PERMISSION_DENIED."""
    bob = str(cast.principals["bob"].user_id)
    stream = grpc_as("alice").StreamUserUpdates(
        user_pb2.StreamUserUpdatesRequest(user_ids=[bob]), timeout=10
    )
    assert rpc_error(lambda: next(stream)).code() == grpc.StatusCode.PERMISSION_DENIED


def test_an_unfiltered_stream_shows_a_user_only_their_own_changes(
    grpc_as: StubFor, cast: Cast, api_db: str
) -> None:
    """alice's unfiltered stream skips the admin's new user and bob's rename, and delivers her own
    rename: a stream shows only the records its caller may read."""
    stream = grpc_as("alice").StreamUserUpdates(user_pb2.StreamUserUpdatesRequest(), timeout=30)
    received: list[user_pb2.UserUpdate] = []
    reader = threading.Thread(target=lambda: received.append(next(stream)))
    reader.start()
    try:
        assert wait_for_listeners(api_db, USER_UPDATES_CHANNEL) == 1
        grpc_as("admin").CreateUser(
            user_pb2.CreateUserRequest(email="new@example.com", name="New", password=PASSWORD),
            timeout=5,
        )
        with psycopg.connect(api_db) as conn:
            for who, name in [("bob", "Bobby"), ("alice", "Alicia")]:
                conn.execute(
                    "SELECT pg_notify('user_updates', json_build_object('kind', 'updated',"
                    " 'id', id, 'email', email, 'name', %s::text, 'status', status,"
                    " 'created_at', created_at)::text) FROM users WHERE id = %s",
                    (name, cast.principals[who].user_id),
                )
        reader.join(20)
    finally:
        stream.cancel()
    assert [(u.user.email, u.user.name) for u in received] == [("alice@example.com", "Alicia")]


def test_rest_and_grpc_accept_the_same_tokens_with_the_same_rules(
    client: TestClient, grpc_as: StubFor, cast: Cast
) -> None:
    """One Cast, one authenticator, two APIs: each caller's verdict on listing users agrees."""
    for who in ("alice", "manager", "admin"):
        rest = client.get("/users", headers=cast.headers(who)).status_code
        try:
            grpc_as(who).ListUsers(user_pb2.ListUsersRequest(), timeout=5)
            verdict = grpc.StatusCode.OK
        except grpc.RpcError as error:
            verdict = error.code()
        assert (rest, verdict) in {
            (200, grpc.StatusCode.OK),
            (403, grpc.StatusCode.PERMISSION_DENIED),
        }, who


def test_bearer_channel_sends_the_token_as_call_credentials(
    grpc_server: RunningServer, cast: Cast
) -> None:
    """The client side: grpc.access_token_call_credentials over local credentials is the same
    ``authorization: Bearer`` metadata; the server accepts it."""
    with bearer_channel(grpc_server.target, cast.token("manager")) as channel:
        page = user_pb2_grpc.UserServiceStub(channel).ListUsers(  # type: ignore[no-untyped-call]
            user_pb2.ListUsersRequest(page_size=1), timeout=5
        )
    assert len(page.users) == 1
