"""Which gRPC status a failure becomes — and what the client is allowed to read.

Pattern: an error boundary with a status table. Domain failures carry a message written for the
client (``INVALID_ARGUMENT``: "id must be a UUID"; ``UNAUTHENTICATED``; ``PERMISSION_DENIED``;
``NOT_FOUND``; ``ALREADY_EXISTS``; ``RESOURCE_EXHAUSTED``); a cancelled statement means the caller's
deadline ran out (``DEADLINE_EXCEEDED``); everything else is ``INTERNAL`` with a generic message and
an incident id, while the exception itself goes to the server log. Request fields are validated by
the REST API's own pydantic models, so one input gets one verdict on every API; their errors become
``INVALID_ARGUMENT`` naming each field. Echoed input is cut to 64 characters. The guide sent
``error.message`` to the client (leaking SQL, hosts, driver details) and answered a malformed id
with ``INTERNAL``. Taught in ``notebooks/01_api_design_grpc.ipynb``.
"""

from __future__ import annotations

import logging
import re
import uuid

import grpc
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError

from reference.api_design.schemas import UUID_PATTERN

log = logging.getLogger(__name__)

QUERY_CANCELED = "57014"  # SQLSTATE of a statement stopped by statement_timeout


class InvalidArgument(ValueError):
    """The request is malformed; the message tells the client what to fix."""


class Unauthenticated(Exception):
    """No credentials, or credentials the authenticator does not accept."""


class PermissionDenied(Exception):
    """The caller is known but may not do this (``reference.api_design.policy``)."""


class ResourceExhausted(Exception):
    """A bounded resource (here: concurrent update streams) is fully in use; retry later."""


class NotFound(LookupError):
    """The named resource does not exist."""


class AlreadyExists(Exception):
    """The resource would collide with an existing one (duplicate email)."""


class DeadlineExceeded(Exception):
    """The caller's deadline passed before the work could finish."""


ECHO_LIMIT = 64  # characters of client input repeated in an error message


def parse_user_id(value: str, field: str = "id") -> uuid.UUID:
    """A request's id as a UUID, or :class:`InvalidArgument` — by the REST app's rule.

    ``uuid.UUID`` also reads ``{…}``, ``urn:uuid:…``, undashed and upper-case spellings; accepting
    them gives one user several ids (cache keys, logs and allow-lists then disagree), so only the
    canonical form every API returns (:data:`~reference.api_design.schemas.UUID_PATTERN`) is an id.
    """
    if not re.fullmatch(UUID_PATTERN, value):
        raise InvalidArgument(
            f"{field} must be a UUID in canonical form (lower-case 8-4-4-4-12 hex), "
            f"got {value[:ECHO_LIMIT]!r}"
        )
    return uuid.UUID(value)


def invalid_fields(error: ValidationError) -> InvalidArgument:
    """A pydantic verdict as one ``INVALID_ARGUMENT`` message: ``field: reason`` per problem."""
    reasons = [
        f"{'.'.join(str(part) for part in problem['loc'])}: {problem['msg'][:200]}"
        for problem in error.errors(include_url=False, include_input=False)
    ]
    return InvalidArgument("; ".join(reasons))


def _was_cancelled(exc: BaseException) -> bool:
    return isinstance(exc, DBAPIError) and getattr(exc.orig, "sqlstate", None) == QUERY_CANCELED


def status_for(exc: BaseException) -> tuple[grpc.StatusCode, str]:
    """The status code and client-safe details for ``exc``."""
    if isinstance(exc, InvalidArgument):
        return grpc.StatusCode.INVALID_ARGUMENT, str(exc)
    if isinstance(exc, Unauthenticated):
        return grpc.StatusCode.UNAUTHENTICATED, str(exc)
    if isinstance(exc, PermissionDenied):
        return grpc.StatusCode.PERMISSION_DENIED, str(exc)
    if isinstance(exc, ResourceExhausted):
        return grpc.StatusCode.RESOURCE_EXHAUSTED, str(exc)
    if isinstance(exc, NotFound):
        return grpc.StatusCode.NOT_FOUND, str(exc)
    if isinstance(exc, AlreadyExists):
        return grpc.StatusCode.ALREADY_EXISTS, str(exc)
    if isinstance(exc, DeadlineExceeded) or _was_cancelled(exc):
        return grpc.StatusCode.DEADLINE_EXCEEDED, "deadline exceeded"
    incident = uuid.uuid4().hex[:12]
    log.error("internal error %s", incident, exc_info=exc)
    return grpc.StatusCode.INTERNAL, f"internal error (incident {incident})"
