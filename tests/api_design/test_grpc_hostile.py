"""Hostile input and load against the live gRPC user service: every answer is a status the client
can act on — never INTERNAL, never a hang.

Issue 8 found: 16 open update streams froze every other call and the health check; a cursor whose id
is not a string, or a NUL in a name, was INTERNAL; multi-megabyte passwords were hashed; ids in
``{…}``/``urn:uuid:``/undashed spellings resolved; and a name of three spaces or an 8-character
password got different answers from REST and gRPC. Here each of those, plus undecodable bytes,
oversized messages, page sizes at the int32 limits and deadlines, meets the real server.
"""

from __future__ import annotations

import base64
import functools
import json
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import grpc
import psycopg
import pytest
from fastapi.testclient import TestClient
from grpc_health.v1 import health_pb2, health_pb2_grpc

from reference.api_design.grpc.gen.user.v1 import user_pb2, user_pb2_grpc
from reference.api_design.grpc.server import DEFAULT_UNARY_WORKERS, RunningServer, start_server
from reference.api_design.grpc.servicer import DEFAULT_MAX_STREAMS, LISTENING, MAX_STREAM_USER_IDS
from reference.api_design.seed import Cast, seed_users

PASSWORD = "correct horse battery staple"
StubFor = Callable[[str], user_pb2_grpc.UserServiceStub]
Stream = Any  # a grpc call object: an iterator of UserUpdate that is also a grpc.Call


def rpc_error(call: Callable[[], object]) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as failure:
        call()
    return failure.value


def user_count(api_db: str) -> int:
    with psycopg.connect(api_db) as conn:
        row = conn.execute("SELECT count(*) FROM users").fetchone()
    return int(row[0]) if row else 0


# --- update streams: a bound, and threads that streams can never take --------------------------


def open_stream(stub: user_pb2_grpc.UserServiceStub, timeout: float = 60) -> Stream:
    """Open an unfiltered stream and wait until the server accepted it (LISTENING metadata) or
    refused it (the call ended)."""
    stream = stub.StreamUserUpdates(user_pb2.StreamUserUpdatesRequest(), timeout=timeout)
    stream.initial_metadata()  # returns once the server sent metadata or the call ended
    return stream


def accepted(stream: Stream) -> bool:
    return LISTENING in tuple(stream.initial_metadata() or ())


def open_accepted_stream(stub: user_pb2_grpc.UserServiceStub) -> Stream:
    """A stream opened as soon as a slot is free (a closed stream gives its slot back when its
    handler notices, within one poll of the server)."""
    give_up = time.monotonic() + 30  # a guard against hanging, not a speed requirement
    while True:
        stream = open_stream(stub)
        if accepted(stream):
            return stream
        assert stream.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert time.monotonic() < give_up, "the freed stream slot never came back"
        time.sleep(0.05)


def test_streams_beyond_the_bound_are_refused_and_unary_calls_keep_answering(
    grpc_as: StubFor, grpc_server: RunningServer, cast: Cast
) -> None:
    """As many streams as the server has threads (16, the old pool that froze): the first
    DEFAULT_MAX_STREAMS are served, the rest get RESOURCE_EXHAUSTED at once, and GetUser and the
    health check still answer. Closing a stream gives its slot to the next one."""
    admin = grpc_as("admin")
    total = DEFAULT_MAX_STREAMS + DEFAULT_UNARY_WORKERS
    streams = [open_stream(admin) for _ in range(DEFAULT_MAX_STREAMS)]
    try:
        assert all(accepted(stream) for stream in streams)
        for _ in range(total - DEFAULT_MAX_STREAMS):
            extra = open_stream(admin, timeout=10)
            refusal = rpc_error(functools.partial(next, extra))
            assert refusal.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, refusal.details()
        alice = str(cast.principals["alice"].user_id)
        assert admin.GetUser(user_pb2.GetUserRequest(id=alice), timeout=10).id == alice
        with grpc.insecure_channel(grpc_server.target) as channel:
            health = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=""), timeout=10
            )
        assert health.status == health_pb2.HealthCheckResponse.SERVING
        streams.pop().cancel()
        streams.append(open_accepted_stream(admin))
    finally:
        for stream in streams:
            stream.cancel()


def test_a_stream_that_runs_out_of_time_gives_its_slot_back(api_db: str, cast: Cast) -> None:
    """With one slot: a stream ends DEADLINE_EXCEEDED, and the next stream is served, not refused."""
    running = start_server(api_db, authenticator=cast.authenticator, max_streams=1)
    try:
        with grpc.insecure_channel(running.target) as channel:
            stub = user_pb2_grpc.UserServiceStub(channel)  # type: ignore[no-untyped-call]
            metadata = (("authorization", f"Bearer {cast.token('admin')}"),)
            short = stub.StreamUserUpdates(
                user_pb2.StreamUserUpdatesRequest(), metadata=metadata, timeout=1
            )
            assert rpc_error(lambda: next(short)).code() == grpc.StatusCode.DEADLINE_EXCEEDED
            give_up = time.monotonic() + 30
            while True:
                stream = stub.StreamUserUpdates(
                    user_pb2.StreamUserUpdatesRequest(), metadata=metadata, timeout=60
                )
                if LISTENING in tuple(stream.initial_metadata() or ()):
                    stream.cancel()
                    break
                assert time.monotonic() < give_up, "the slot was never given back"
                time.sleep(0.05)
    finally:
        running.stop(0)


def test_health_watch_streams_hold_no_threads(grpc_as: StubFor, grpc_server: RunningServer) -> None:
    """health.v1 Watch is served without a thread each: more watchers than threads, anonymous, and
    the service still answers."""
    with grpc.insecure_channel(grpc_server.target) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        watchers = [
            health.Watch(health_pb2.HealthCheckRequest(service=""), timeout=60)
            for _ in range(DEFAULT_MAX_STREAMS + DEFAULT_UNARY_WORKERS + 4)
        ]
        try:
            for watcher in watchers:
                assert next(watcher).status == health_pb2.HealthCheckResponse.SERVING
            page = grpc_as("admin").ListUsers(user_pb2.ListUsersRequest(), timeout=10)
            assert len(page.users) == 4
        finally:
            for watcher in watchers:
                watcher.cancel()


@pytest.mark.parametrize(
    ("ids", "reason"),
    [
        ([str(uuid.uuid4()) for _ in range(MAX_STREAM_USER_IDS + 1)], "at most"),
        (["not-a-uuid"], "user_ids[0]"),
    ],
    ids=["too many ids", "malformed id"],
)
def test_stream_filters_are_validated(grpc_as: StubFor, ids: list[str], reason: str) -> None:
    """A stream filter is bounded and its ids are checked like GetUser's: INVALID_ARGUMENT."""
    stream = grpc_as("admin").StreamUserUpdates(
        user_pb2.StreamUserUpdatesRequest(user_ids=ids), timeout=10
    )
    error = rpc_error(lambda: next(stream))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert reason in error.details()


# --- bytes on the wire ----------------------------------------------------------------------------


@pytest.mark.parametrize("size", [70_000, 3 * 1024 * 1024], ids=["70 KB", "3 MB"])
def test_an_oversized_request_is_resource_exhausted(
    grpc_as: StubFor, api_db: str, size: int
) -> None:
    """Above the 64 KiB message cap the transport refuses the call before anything is parsed or
    hashed (gRPC's default cap is 4 MB, so a 3 MB password used to reach Argon2)."""
    request = user_pb2.CreateUserRequest(email="big@example.com", name="Big", password="p" * size)
    error = rpc_error(lambda: grpc_as("admin").CreateUser(request, timeout=10))
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert user_count(api_db) == 4


@pytest.mark.parametrize(
    ("length", "expected"),
    [(7_000, grpc.StatusCode.UNAUTHENTICATED), (20_000, grpc.StatusCode.RESOURCE_EXHAUSTED)],
)
def test_a_huge_authorization_header_is_refused(
    grpc_server: RunningServer, length: int, expected: grpc.StatusCode
) -> None:
    """A long made-up token is just not valid; past gRPC's 16 KiB metadata limit the transport
    refuses it before the server reads it."""
    metadata = (("authorization", "Bearer " + "a" * length),)
    with grpc.insecure_channel(grpc_server.target) as channel:
        stub = user_pb2_grpc.UserServiceStub(channel)  # type: ignore[no-untyped-call]
        error = rpc_error(
            lambda: stub.ListUsers(user_pb2.ListUsersRequest(), metadata=metadata, timeout=10)
        )
    assert error.code() == expected


def raw_call(target: str, method: str, payload: bytes, token: str | None) -> grpc.RpcError:
    metadata = (("authorization", f"Bearer {token}"),) if token else ()
    with grpc.insecure_channel(target) as channel:
        call = channel.unary_unary(method)  # bytes in, bytes out: no client-side serialisation
        return rpc_error(lambda: call(payload, metadata=metadata, timeout=10))


UNDECODABLE = {
    "corrupt wire format": ("/user.v1.UserService/GetUser", b"\xff\xff\xff"),
    "name not UTF-8": ("/user.v1.UserService/CreateUser", b"\x0a\x03a@b\x12\x02\xc3\x28"),
    "health, corrupt": ("/grpc.health.v1.Health/Check", b"\x0a\x02\xc3\x28"),
}


@pytest.mark.parametrize("case", list(UNDECODABLE))
def test_bytes_that_are_not_the_request_message_are_invalid_argument(
    grpc_server: RunningServer, cast: Cast, case: str
) -> None:
    """grpcio calls a failed parse INTERNAL; the server answers INVALID_ARGUMENT instead."""
    method, payload = UNDECODABLE[case]
    error = raw_call(grpc_server.target, method, payload, cast.token("admin"))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "protobuf" in error.details()


def test_an_anonymous_caller_learns_nothing_about_request_bodies(
    grpc_server: RunningServer,
) -> None:
    """Undecodable bytes without credentials: UNAUTHENTICATED first, as REST answers 401 before it
    parses a body."""
    method, payload = UNDECODABLE["corrupt wire format"]
    assert raw_call(grpc_server.target, method, payload, None).code() == (
        grpc.StatusCode.UNAUTHENTICATED
    )


def varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    return bytes(out) + bytes([value])


@pytest.mark.parametrize(
    ("page_size", "expected"),
    [(2**31 - 1, 100), (-(2**31), None), (2**40, 50), (2**63 - 1, None)],
    ids=["int32 max", "int32 min", "64-bit value (read as 0)", "int64 max (read as -1)"],
)
def test_page_size_at_and_past_the_int32_limits(
    grpc_server: RunningServer, cast: Cast, api_db: str, page_size: int, expected: int | None
) -> None:
    """A raw varint page_size (clients cannot send these through the typed stub): parsed as int32,
    then coerced (AIP-158) or refused — never INTERNAL."""
    seed_users(api_db, 150)
    with grpc.insecure_channel(grpc_server.target) as channel:
        call = channel.unary_unary(
            "/user.v1.UserService/ListUsers",
            response_deserializer=user_pb2.ListUsersResponse.FromString,
        )
        metadata = (("authorization", f"Bearer {cast.token('admin')}"),)
        payload = b"\x08" + varint(page_size)
        if expected is None:
            error = rpc_error(lambda: call(payload, metadata=metadata, timeout=10))
            assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        else:
            assert len(call(payload, metadata=metadata, timeout=10).users) == expected


# --- tokens, ids, deadlines ----------------------------------------------------------------------


def forged_token(payload: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "token",
    [
        forged_token(["2024-01-01T00:00:00+00:00", 5]),
        forged_token(["2024-01-01T00:00:00+00:00", None]),
        forged_token(["2024-01-01T00:00:00+00:00", ["x"]]),
        base64.urlsafe_b64encode(b"[" * 5000).decode(),
        "A" * 10_000,
    ],
    ids=["id is a number", "id is null", "id is a list", "5000 nested brackets", "10 KB"],
)
def test_a_forged_page_token_is_invalid_argument(grpc_as: StubFor, token: str) -> None:
    """A base64 token whose JSON is not (timestamp, uuid string) — or that nests past the parser's
    depth, or is longer than any token the server issues — is INVALID_ARGUMENT, not INTERNAL."""
    error = rpc_error(
        lambda: grpc_as("admin").ListUsers(user_pb2.ListUsersRequest(page_token=token), timeout=10)
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, error.details()


@pytest.mark.parametrize(
    "spelling",
    [
        lambda u: "{" + str(u) + "}",
        lambda u: u.urn,
        lambda u: u.hex,
        lambda u: str(u).upper(),
        lambda u: f" {u} ",
        lambda u: str(u) + "\x00",
        lambda u: str(u) + "\n",
    ],
    ids=["braces", "urn", "undashed", "upper case", "padded", "NUL", "trailing newline"],
)
def test_only_the_canonical_uuid_spelling_is_an_id(
    grpc_as: StubFor, cast: Cast, spelling: Callable[[uuid.UUID], str]
) -> None:
    """alice's id in any other spelling is INVALID_ARGUMENT: one user, one id (the spellings
    ``uuid.UUID`` also reads used to resolve to her record)."""
    alice = cast.principals["alice"].user_id
    error = rpc_error(
        lambda: grpc_as("admin").GetUser(user_pb2.GetUserRequest(id=spelling(alice)), timeout=10)
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "canonical" in error.details()


def test_an_expired_deadline_is_deadline_exceeded_and_a_distant_one_is_capped(
    grpc_as: StubFor, cast: Cast
) -> None:
    """A deadline that passes before the work is DEADLINE_EXCEEDED; a deadline days away still gets
    an answer (the server's own ceiling bounds the statement, not the client's promise)."""
    admin = grpc_as("admin")
    alice = user_pb2.GetUserRequest(id=str(cast.principals["alice"].user_id))
    assert rpc_error(lambda: admin.GetUser(alice, timeout=0.000_001)).code() == (
        grpc.StatusCode.DEADLINE_EXCEEDED
    )
    assert admin.GetUser(alice, timeout=3 * 24 * 3600).name == "alice"


# --- one validation model: REST and gRPC give the same answer to the same input ------------------

CREATE_CASES: dict[str, tuple[str, str, str]] = {
    "valid": ("new@example.com", "Ada", PASSWORD),
    "name of three spaces": ("new@example.com", "   ", PASSWORD),
    "name of three spaces and a letter": ("new@example.com", "   a", PASSWORD),
    "two-letter name": ("new@example.com", " Yu ", PASSWORD),
    "name with spaces around": ("new@example.com", " Ada ", PASSWORD),
    "empty name": ("new@example.com", "", PASSWORD),
    "NUL in name": ("new@example.com", "A\x00da", PASSWORD),
    "101-character name": ("new@example.com", "n" * 101, PASSWORD),
    "100-character name": ("new@example.com", "n" * 100, PASSWORD),
    "7-character password": ("new@example.com", "Ada", "x" * 7),
    "8-character password": ("new@example.com", "Ada", "x" * 8),
    "128-character password": ("new@example.com", "Ada", "x" * 128),
    "129-character password": ("new@example.com", "Ada", "x" * 129),
    "NUL in password": ("new@example.com", "Ada", PASSWORD + "\x00"),
    "breached password": ("new@example.com", "Ada", "password123"),
    "not an email": ("not-an-email", "Ada", PASSWORD),
    "NUL in email": ("new\x00@example.com", "Ada", PASSWORD),
    "reserved .test domain": ("new@example.test", "Ada", PASSWORD),
    "trailing dot": ("carol@example.test.", "Ada", PASSWORD),
    "two trailing dots": ("carol@example.test..", "Ada", PASSWORD),
    "upper-case domain": ("New@EXAMPLE.com", "Ada", PASSWORD),
    "taken, other case": ("ALICE@example.com", "Ada", PASSWORD),
    "taken, padded upper case": (" ALICE@EXAMPLE.COM", "Ada", PASSWORD),
    "taken, Unicode spelling of a punycode domain": ("dave@exämple.test", "Ada", PASSWORD),
    "taken, fullwidth spelling": ("ａｌｉｃｅ@example.com", "Ada", PASSWORD),
    "255-character email": ("e" * 243 + "@example.com", "Ada", PASSWORD),
}

GRPC_FOR_HTTP = {
    201: grpc.StatusCode.OK,
    409: grpc.StatusCode.ALREADY_EXISTS,
    422: grpc.StatusCode.INVALID_ARGUMENT,
}


@pytest.fixture
def punycode_dave(client: TestClient, cast: Cast) -> None:
    """dave@xn--exmple-cua.test exists (created through REST), for the Unicode-spelling case."""
    body = {"email": "dave@xn--exmple-cua.test", "name": "Dave", "password": PASSWORD}
    assert client.post("/users", json=body, headers=cast.headers("admin")).status_code == 201


@pytest.mark.parametrize("case", list(CREATE_CASES))
def test_rest_and_grpc_give_the_same_answer_to_the_same_input(
    client: TestClient,
    grpc_as: StubFor,
    cast: Cast,
    api_db: str,
    punycode_dave: None,
    case: str,
) -> None:
    """One validation model (REST's UserCreate): each input gets the same verdict from POST /users
    and from CreateUser, and an accepted one is stored the same way."""
    email, name, password = CREATE_CASES[case]
    body = {"email": email, "name": name, "password": password}
    rest = client.post("/users", json=body, headers=cast.headers("admin"))
    rest_stored = None
    if rest.status_code == 201:
        data = rest.json()["data"]
        rest_stored = (data["email"], data["name"])
        with psycopg.connect(api_db) as conn:  # make room for the same row through gRPC
            conn.execute("DELETE FROM users WHERE id = %s", (data["id"],))
    try:
        created = grpc_as("admin").CreateUser(user_pb2.CreateUserRequest(**body), timeout=10)
        verdict, grpc_stored = grpc.StatusCode.OK, (created.email, created.name)
    except grpc.RpcError as error:
        verdict, grpc_stored = error.code(), None
    assert rest.status_code in GRPC_FOR_HTTP, rest.text
    assert verdict == GRPC_FOR_HTTP[rest.status_code], f"REST {rest.status_code}, gRPC {verdict}"
    assert grpc_stored == rest_stored


ID_SPELLINGS: dict[str, Callable[[uuid.UUID], str]] = {
    "canonical": str,
    "upper case": lambda u: str(u).upper(),
    "braces": lambda u: "{" + str(u) + "}",
    "urn": lambda u: u.urn,
    "undashed": lambda u: u.hex,
    "not a uuid": lambda u: "nope",
    "nobody's": lambda u: str(uuid.UUID(int=u.int ^ 1)),
}
GRPC_FOR_GET = {
    200: grpc.StatusCode.OK,
    404: grpc.StatusCode.NOT_FOUND,
    422: grpc.StatusCode.INVALID_ARGUMENT,
}


@pytest.mark.parametrize("spelling", list(ID_SPELLINGS))
def test_rest_and_grpc_agree_on_which_ids_name_a_user(
    client: TestClient, grpc_as: StubFor, cast: Cast, spelling: str
) -> None:
    """GET /users/{id} and GetUser give the same verdict for each spelling of alice's id."""
    user_id = ID_SPELLINGS[spelling](cast.principals["alice"].user_id)
    rest = client.get(f"/users/{user_id}", headers=cast.headers("admin"), follow_redirects=False)
    try:
        grpc_as("admin").GetUser(user_pb2.GetUserRequest(id=user_id), timeout=10)
        verdict = grpc.StatusCode.OK
    except grpc.RpcError as error:
        verdict = error.code()
    assert rest.status_code in GRPC_FOR_GET, rest.text
    assert verdict == GRPC_FOR_GET[rest.status_code], f"REST {rest.status_code}, gRPC {verdict}"


def test_stop_returns_while_cancelled_health_watchers_are_still_being_cleaned_up(
    api_db: str, cast: Cast
) -> None:
    """Stopping right after watchers hang up must not wait forever on a NOT_SERVING notice that
    can no longer be sent (seen once in CI: the fixture's stop() hung until pytest-timeout)."""
    for _ in range(10):
        running = start_server(api_db, authenticator=cast.authenticator)
        with grpc.insecure_channel(running.target) as channel:
            health = health_pb2_grpc.HealthStub(channel)
            watchers = [
                health.Watch(health_pb2.HealthCheckRequest(service=""), timeout=60)
                for _ in range(DEFAULT_MAX_STREAMS + DEFAULT_UNARY_WORKERS + 4)
            ]
            for watcher in watchers:
                next(watcher)
            for watcher in watchers:
                watcher.cancel()
        stopping = threading.Thread(target=running.stop, args=(0,), daemon=True)
        stopping.start()
        stopping.join(30)  # a guard against a hang, not a speed target: stop(0) takes milliseconds
        assert not stopping.is_alive(), "stop() hung on the health watchers' NOT_SERVING notice"
