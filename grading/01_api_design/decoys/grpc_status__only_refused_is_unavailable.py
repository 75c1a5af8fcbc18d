"""Decoy for 01.6: the SQLSTATE table is right, but only a missing SQLSTATE (connection refused) is
UNAVAILABLE — class 08 errors fall through to INTERNAL; caught by "connection failure (class 08)".

Caught by test_each_database_error_gets_its_status.
"""

from __future__ import annotations

import grpc
from sqlalchemy.exc import DBAPIError

MESSAGES: dict[grpc.StatusCode, str] = {
    grpc.StatusCode.ALREADY_EXISTS: "the resource already exists",
    grpc.StatusCode.FAILED_PRECONDITION: "a referenced resource does not exist",
    grpc.StatusCode.INVALID_ARGUMENT: "a value in the request is malformed",
    grpc.StatusCode.DEADLINE_EXCEEDED: "deadline exceeded",
    grpc.StatusCode.ABORTED: "conflict with a concurrent request; retry",
    grpc.StatusCode.UNAVAILABLE: "the service is temporarily unavailable; retry",
    grpc.StatusCode.INTERNAL: "internal error",
}

_BY_STATE = {
    "23505": grpc.StatusCode.ALREADY_EXISTS,
    "23503": grpc.StatusCode.FAILED_PRECONDITION,
    "22P02": grpc.StatusCode.INVALID_ARGUMENT,
    "57014": grpc.StatusCode.DEADLINE_EXCEEDED,
    "40001": grpc.StatusCode.ABORTED,
    "40P01": grpc.StatusCode.ABORTED,
}


def status_for_database_error(exc: BaseException) -> tuple[grpc.StatusCode, str]:
    code = grpc.StatusCode.INTERNAL
    if isinstance(exc, DBAPIError):
        sqlstate = getattr(exc.orig, "sqlstate", None)
        code = grpc.StatusCode.UNAVAILABLE if sqlstate is None else _BY_STATE.get(sqlstate, code)
    return code, MESSAGES[code]
