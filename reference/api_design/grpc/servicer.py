"""``user.v1.UserService``: GetUser, ListUsers, CreateUser and a server-streamed update feed.

Pattern: every handler runs inside one error boundary (:meth:`UserServicer._boundary`) that turns
exceptions into statuses with :func:`~reference.api_design.grpc.errors.status_for` and
``context.abort`` — input is validated first (a malformed id is ``INVALID_ARGUMENT``, never a
database cast error reported as ``INTERNAL``), and every transaction carries the caller's deadline.
``ListUsers`` pages with opaque tokens (AIP-158: 0 → default size, over the maximum → coerced).
``StreamUserUpdates`` LISTENs on PostgreSQL and ends when the client cancels. Taught in
``notebooks/01_api_design_graphql_grpc.ipynb``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import grpc
import psycopg
from argon2 import PasswordHasher
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import Engine

from reference.api_design.graphql.cursors import InvalidCursor, Keyset, decode_cursor, encode_cursor
from reference.api_design.grpc.deadlines import transaction_within_deadline
from reference.api_design.grpc.errors import InvalidArgument, NotFound, parse_user_id, status_for
from reference.api_design.grpc.gen.user.v1 import user_pb2, user_pb2_grpc
from reference.api_design.grpc.repository import USER_UPDATES_CHANNEL, UserRecord, UserRepository

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
MIN_PASSWORD_LENGTH = 12
STREAM_POLL_SECONDS = 0.2

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


class UserServicer(user_pb2_grpc.UserServiceServicer):
    """The service implementation; ``repository`` and ``status_mapper`` are replaceable."""

    def __init__(
        self,
        engine: Engine,
        listen_url: str,
        repository: UserRepository | None = None,
        status_mapper: StatusMapper = status_for,
    ) -> None:
        self.engine = engine
        self.listen_url = listen_url  # plain postgresql:// URL for LISTEN
        self.repository = repository or UserRepository()
        self.status_mapper = status_mapper
        self._hasher = PasswordHasher()

    @contextmanager
    def _boundary(self, context: Any) -> Iterator[None]:
        try:
            yield
        except Exception as exc:  # noqa: BLE001 - the error boundary: every failure gets a status
            code, details = self.status_mapper(exc)
            context.abort(code, details)

    def GetUser(self, request: user_pb2.GetUserRequest, context: Any) -> user_pb2.User:
        with self._boundary(context):
            user_id = parse_user_id(request.id)
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
            try:
                email = validate_email(request.email, check_deliverability=False).normalized
            except EmailNotValidError as exc:
                raise InvalidArgument(f"email: {exc}") from None
            name = request.name.strip()
            if not 1 <= len(name) <= 100:
                raise InvalidArgument("name must be 1 to 100 characters")
            if len(request.password) < MIN_PASSWORD_LENGTH:
                raise InvalidArgument(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
            password_hash = self._hasher.hash(request.password)
            with transaction_within_deadline(self.engine, context) as conn:
                record = self.repository.create(conn, email, name, password_hash)
            return to_proto(record)
        raise AssertionError("unreachable: the boundary aborted")

    def StreamUserUpdates(
        self, request: user_pb2.StreamUserUpdatesRequest, context: Any
    ) -> Iterator[user_pb2.UserUpdate]:
        with self._boundary(context):
            wanted = {parse_user_id(raw) for raw in request.user_ids}
            with psycopg.connect(self.listen_url, autocommit=True) as conn:
                conn.execute(f"LISTEN {USER_UPDATES_CHANNEL}")
                while context.is_active():
                    for note in conn.notifies(timeout=STREAM_POLL_SECONDS):
                        kind, record = UserRecord.from_json(note.payload)
                        if not wanted or record.id in wanted:
                            yield user_pb2.UserUpdate(kind=_KIND[kind], user=to_proto(record))
