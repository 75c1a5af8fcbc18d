"""Taught in notebooks/01_api_design_grpc.ipynb §3.

Exercise 01.6: map PostgreSQL errors to gRPC status codes without leaking them.

The guide's gRPC handler answered every failure with ``INTERNAL`` and ``error.message``: the client
learned table, constraint and host names, and could not tell "retry later" from "fix your request".
Write ``status_for_database_error``: given the exception SQLAlchemy raised, return the status code a
client can act on and a SHORT message of your own — never the exception's text. The reference
servicer (``reference.api_design.grpc.servicer``) calls a function like this from its error boundary.

PostgreSQL reports each error's class as a five-character SQLSTATE, available as
``exc.orig.sqlstate`` (``None`` when the server never answered, e.g. the connection was refused).
Decide by the SQLSTATE alone, never by the error's text: a trigger can raise a unique violation in
its own words, and a plain ``RAISE`` can quote a duplicate-key message.

========================================  ==========  ======================
what happened                             SQLSTATE    gRPC status
========================================  ==========  ======================
unique violation (duplicate email)        23505       ALREADY_EXISTS
foreign key violation (unknown user)      23503       FAILED_PRECONDITION
invalid text for a type ('nope'::uuid)    22P02       INVALID_ARGUMENT
statement_timeout / cancelled             57014       DEADLINE_EXCEEDED
serialization failure / deadlock          40001/40P01 ABORTED (safe to retry)
connection problems                       08xxx/None  UNAVAILABLE
anything else (also non-database errors)  —           INTERNAL
========================================  ==========  ======================
"""

from __future__ import annotations

import grpc
from sqlalchemy.exc import DBAPIError  # noqa: F401, RUF100 - for your solution

MESSAGES: dict[grpc.StatusCode, str] = {
    grpc.StatusCode.ALREADY_EXISTS: "the resource already exists",
    grpc.StatusCode.FAILED_PRECONDITION: "a referenced resource does not exist",
    grpc.StatusCode.INVALID_ARGUMENT: "a value in the request is malformed",
    grpc.StatusCode.DEADLINE_EXCEEDED: "deadline exceeded",
    grpc.StatusCode.ABORTED: "conflict with a concurrent request; retry",
    grpc.StatusCode.UNAVAILABLE: "the service is temporarily unavailable; retry",
    grpc.StatusCode.INTERNAL: "internal error",
}


def status_for_database_error(exc: BaseException) -> tuple[grpc.StatusCode, str]:
    """The gRPC status for ``exc`` and a client-safe message (one of ``MESSAGES``)."""
    # TODO: pick the status from the exception's SQLSTATE (see the table above): connection
    # problems are UNAVAILABLE, anything unrecognised is INTERNAL; return it with its MESSAGES entry,
    # never the exception's own text.
    raise NotImplementedError
