"""Which gRPC status a failure becomes — and what the client is allowed to read.

Pattern: an error boundary with a status table. Domain failures carry a message written for the
client (``INVALID_ARGUMENT``: "id must be a UUID"; ``NOT_FOUND``; ``ALREADY_EXISTS``); a cancelled
statement means the caller's deadline ran out (``DEADLINE_EXCEEDED``); everything else is
``INTERNAL`` with a generic message and an incident id, while the exception itself goes to the
server log. The guide sent ``error.message`` to the client (leaking SQL, hosts, driver details) and
answered a malformed id with ``INTERNAL``. Taught in ``notebooks/01_api_design_graphql_grpc.ipynb``.
"""

from __future__ import annotations

import logging
import uuid

import grpc
from sqlalchemy.exc import DBAPIError

log = logging.getLogger(__name__)

QUERY_CANCELED = "57014"  # SQLSTATE of a statement stopped by statement_timeout


class InvalidArgument(ValueError):
    """The request is malformed; the message tells the client what to fix."""


class NotFound(LookupError):
    """The named resource does not exist."""


class AlreadyExists(Exception):
    """The resource would collide with an existing one (duplicate email)."""


class DeadlineExceeded(Exception):
    """The caller's deadline passed before the work could finish."""


def parse_user_id(value: str) -> uuid.UUID:
    """A request's id as a UUID, or :class:`InvalidArgument`."""
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InvalidArgument(f"id must be a UUID, got {value[:64]!r}") from None


def _was_cancelled(exc: BaseException) -> bool:
    return isinstance(exc, DBAPIError) and getattr(exc.orig, "sqlstate", None) == QUERY_CANCELED


def status_for(exc: BaseException) -> tuple[grpc.StatusCode, str]:
    """The status code and client-safe details for ``exc``."""
    if isinstance(exc, InvalidArgument):
        return grpc.StatusCode.INVALID_ARGUMENT, str(exc)
    if isinstance(exc, NotFound):
        return grpc.StatusCode.NOT_FOUND, str(exc)
    if isinstance(exc, AlreadyExists):
        return grpc.StatusCode.ALREADY_EXISTS, str(exc)
    if isinstance(exc, DeadlineExceeded) or _was_cancelled(exc):
        return grpc.StatusCode.DEADLINE_EXCEEDED, "deadline exceeded"
    incident = uuid.uuid4().hex[:12]
    log.error("internal error %s", incident, exc_info=exc)
    return grpc.StatusCode.INTERNAL, f"internal error (incident {incident})"
