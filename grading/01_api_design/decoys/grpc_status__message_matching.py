"""Decoy for 01.6: picks the status by searching the error's text ("duplicate key", "foreign key" …)
instead of its SQLSTATE — caught by the cases worded differently from PostgreSQL's own messages.

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

_BY_TEXT = [
    ("duplicate key", grpc.StatusCode.ALREADY_EXISTS),
    ("foreign key", grpc.StatusCode.FAILED_PRECONDITION),
    ("invalid input syntax", grpc.StatusCode.INVALID_ARGUMENT),
    ("statement timeout", grpc.StatusCode.DEADLINE_EXCEEDED),
    ("could not serialize", grpc.StatusCode.ABORTED),
    ("deadlock", grpc.StatusCode.ABORTED),
    ("connection", grpc.StatusCode.UNAVAILABLE),
]


def status_for_database_error(exc: BaseException) -> tuple[grpc.StatusCode, str]:
    code = grpc.StatusCode.INTERNAL
    if isinstance(exc, DBAPIError):
        text = str(exc.orig).lower()
        code = next((code for words, code in _BY_TEXT if words in text), code)
    return code, MESSAGES[code]
