"""``user.v1.UserService``: GetUser, ListUsers, CreateUser and a server-streamed update feed.

Pattern: every handler runs inside one error boundary (:meth:`UserServicer._boundary`) that turns
exceptions into statuses with :func:`~reference.api_design.grpc.errors.status_for` and
``context.abort``. Each call takes its caller from :func:`~reference.api_design.grpc.auth.caller`
(authenticated by the server's ``AuthInterceptor`` before the handler runs; without it every call
is ``UNAUTHENTICATED``) and asks the REST app's policy (:func:`~reference.api_design.policy.may`) —
plain users read only their own record, managers and admins list, only admins create; a record
the caller may not read is ``NOT_FOUND``, as REST answers 404. Input is then validated — by the
REST app's pydantic models (``UserCreate``), so the three APIs give one answer per input, and ids
in canonical form only (never a database cast error reported as ``INTERNAL``) — and every
transaction carries the caller's deadline. ``ListUsers`` pages with opaque tokens (AIP-158: 0 →
default size, over the maximum → coerced; a forged token is ``INVALID_ARGUMENT``).
``StreamUserUpdates`` LISTENs on PostgreSQL, then sends the initial metadata :data:`LISTENING` (so
a client knows when no change can be missed), shows each caller only the users it may read, and
ends when the client cancels or its deadline passes. Each open stream holds a worker thread and a
database connection, so at most ``max_streams`` run at once and one more is
``RESOURCE_EXHAUSTED`` — the rest of the thread pool stays free for unary calls and health checks.
Taught in ``notebooks/01_api_design_grpc.ipynb``.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import grpc
import psycopg
from argon2 import PasswordHasher
from pydantic import ValidationError
from sqlalchemy import Engine

from reference.api_design.auth import Principal
from reference.api_design.graphql.cursors import InvalidCursor, Keyset, decode_cursor, encode_cursor
from reference.api_design.grpc.auth import caller
from reference.api_design.grpc.deadlines import transaction_within_deadline
from reference.api_design.grpc.errors import (
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    invalid_fields,
    parse_user_id,
    status_for,
)
from reference.api_design.grpc.gen.user.v1 import user_pb2, user_pb2_grpc
from reference.api_design.grpc.repository import USER_UPDATES_CHANNEL, UserRecord, UserRepository
from reference.api_design.policy import may
from reference.api_design.schemas import UserCreate

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
MAX_STREAM_USER_IDS = 100
DEFAULT_MAX_STREAMS = 8
STREAM_POLL_SECONDS = 0.2
# Initial metadata of an accepted stream, sent once LISTEN is in place: from then on no change is
# missed, so a client can wait for it instead of sleeping (a refused stream never carries it).
LISTENING = ("user-updates", "listening")

StatusMapper = Callable[[BaseException], tuple[grpc.StatusCode, str]]

_STATUS = {
    "active": user_pb2.USER_STATUS_ACTIVE,
    "inactive": user_pb2.USER_STATUS_INACTIVE,
    "suspended": user_pb2.USER_STATUS_SUSPENDED,
}
_KIND = {"created": user_pb2.UserUpdate.KIND_CREATED, "updated": user_pb2.UserUpdate.KIND_UPDATED}


def to_proto(record: UserRecord) -> user_pb2.User:
    return user_pb2.User(
        id=str(record.id),
        email=record.email,
        name=record.name,
        status=_STATUS[record.status.value],
        created_at=record.created_at,  # protobuf converts datetime → Timestamp
    )


def page_size(requested: int) -> int:
    if requested < 0:
        raise InvalidArgument("page_size must not be negative")
    return min(requested or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


def page_after(token: str) -> Keyset | None:
    if not token:
        return None
    try:
        return decode_cursor(token)
    except InvalidCursor:
        raise InvalidArgument("page_token is not a token this service returned") from None


def new_user(request: user_pb2.CreateUserRequest) -> UserCreate:
    """The request checked by the REST app's model: the same verdict as ``POST /users``."""
    try:
        return UserCreate(email=request.email, name=request.name, password=request.password)
    except ValidationError as error:
        raise invalid_fields(error) from None


class UserServicer(user_pb2_grpc.UserServiceServicer):
    """The service implementation; ``repository`` and ``status_mapper`` are replaceable."""

    def __init__(
        self,
        engine: Engine,
        listen_url: str,
        repository: UserRepository | None = None,
        status_mapper: StatusMapper = status_for,
        max_streams: int = DEFAULT_MAX_STREAMS,
    ) -> None:
        self.engine = engine
        self.listen_url = listen_url  # plain postgresql:// URL for LISTEN
        self.repository = repository or UserRepository()
        self.status_mapper = status_mapper
        self._hasher = PasswordHasher()
        self._stream_slots = threading.BoundedSemaphore(max_streams)

    @contextmanager
    def _boundary(self, context: Any) -> Iterator[None]:
        try:
            yield
        except Exception as exc:  # noqa: BLE001 - the error boundary: every failure gets a status
            code, details = self.status_mapper(exc)
            context.abort(code, details)

    def GetUser(self, request: user_pb2.GetUserRequest, context: Any) -> user_pb2.User:
        with self._boundary(context):
            principal = caller()
            user_id = parse_user_id(request.id)
            record = None
            if may(principal, "read", user_id):  # otherwise NOT_FOUND: existence is not confirmed
                with transaction_within_deadline(self.engine, context) as conn:
                    record = self.repository.get(conn, user_id)
            if record is None:
                raise NotFound(f"no user with id {user_id}")
            return to_proto(record)
        raise AssertionError("unreachable: the boundary aborted")

    def ListUsers(
        self, request: user_pb2.ListUsersRequest, context: Any
    ) -> user_pb2.ListUsersResponse:
        with self._boundary(context):
            if not may(caller(), "list"):
                raise PermissionDenied("listing users needs the manager or admin role")
            size = page_size(request.page_size)
            after = page_after(request.page_token)
            with transaction_within_deadline(self.engine, context) as conn:
                rows = self.repository.list_page(conn, size + 1, after)
            page = rows[:size]
            token = (
                encode_cursor(Keyset(page[-1].created_at, page[-1].id)) if len(rows) > size else ""
            )
            return user_pb2.ListUsersResponse(
                users=[to_proto(r) for r in page], next_page_token=token
            )
        raise AssertionError("unreachable: the boundary aborted")

    def CreateUser(self, request: user_pb2.CreateUserRequest, context: Any) -> user_pb2.User:
        with self._boundary(context):
            if not may(caller(), "create"):
                raise PermissionDenied("creating users needs the admin role")
            body = new_user(request)
            password_hash = self._hasher.hash(body.password)
            with transaction_within_deadline(self.engine, context) as conn:
                record = self.repository.create(conn, body.email, body.name, password_hash)
            return to_proto(record)
        raise AssertionError("unreachable: the boundary aborted")

    def StreamUserUpdates(
        self, request: user_pb2.StreamUserUpdatesRequest, context: Any
    ) -> Iterator[user_pb2.UserUpdate]:
        with self._boundary(context):
            principal = caller()
            if len(request.user_ids) > MAX_STREAM_USER_IDS:
                raise InvalidArgument(f"user_ids may name at most {MAX_STREAM_USER_IDS} users")
            wanted = {
                parse_user_id(raw, f"user_ids[{i}]") for i, raw in enumerate(request.user_ids)
            }
            if not all(may(principal, "read", user_id) for user_id in wanted):
                raise PermissionDenied("you may follow only users you may read")
            if not self._stream_slots.acquire(blocking=False):
                raise ResourceExhausted("too many open update streams; retry later")
            try:
                yield from self._updates(context, principal, wanted)
            finally:
                self._stream_slots.release()

    def _updates(
        self, context: Any, principal: Principal, wanted: set[uuid.UUID]
    ) -> Iterator[user_pb2.UserUpdate]:
        with psycopg.connect(self.listen_url, autocommit=True) as conn:
            conn.execute(f"LISTEN {USER_UPDATES_CHANNEL}")
            context.send_initial_metadata((LISTENING,))
            while context.is_active():
                for note in conn.notifies(timeout=STREAM_POLL_SECONDS):
                    kind, record = UserRecord.from_json(note.payload)
                    if (not wanted or record.id in wanted) and may(principal, "read", record.id):
                        yield user_pb2.UserUpdate(kind=_KIND[kind], user=to_proto(record))
