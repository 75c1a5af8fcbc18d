"""Decoy for 01.6: every status code right, but the message is the database's own text
(``str(exc.orig)``) — table and constraint names reach the client. It must fail.

Caught by test_non_database_errors_are_internal.
"""

from __future__ import annotations

import grpc
from sqlalchemy.exc import DBAPIError

MESSAGES: dict[grpc.StatusCode, str] = {}

_BY_STATE = {
    "23505": grpc.StatusCode.ALREADY_EXISTS,
    "23503": grpc.StatusCode.FAILED_PRECONDITION,
    "22P02": grpc.StatusCode.INVALID_ARGUMENT,
    "57014": grpc.StatusCode.DEADLINE_EXCEEDED,
    "40001": grpc.StatusCode.ABORTED,
    "40P01": grpc.StatusCode.ABORTED,
}


def status_for_database_error(exc: BaseException) -> tuple[grpc.StatusCode, str]:
    if not isinstance(exc, DBAPIError):
        return grpc.StatusCode.INTERNAL, str(exc)
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate in _BY_STATE:
        code = _BY_STATE[sqlstate]
    elif sqlstate is None or sqlstate.startswith("08"):
        code = grpc.StatusCode.UNAVAILABLE
    else:
        code = grpc.StatusCode.INTERNAL
    MESSAGES[code] = str(exc.orig)
    return code, str(exc.orig)
