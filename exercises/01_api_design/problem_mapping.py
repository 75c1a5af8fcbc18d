"""Taught in notebooks/01_api_design_rest.ipynb §3.

Exercise 01.3 — map any exception to an RFC 9457 problem (status, headers, body).

``problem_for(error)`` returns a :class:`reference.api_design.problems.Problem`. The table:

* a ``ProblemError`` (``Unauthorized``, ``TooManyRequests`` …) → its own problem, headers kept
  (``WWW-Authenticate``, ``Retry-After``);
* ``json.JSONDecodeError`` → 400 (malformed syntax, not invalid values);
* ``PermissionError`` → 403;
* ``LookupError`` (``KeyError`` …) → 404;
* ``sqlalchemy.exc.IntegrityError`` → 409 for a unique or foreign-key violation, 422 for a check or
  not-null violation;
* ``pydantic.ValidationError`` → 422 with an ``errors`` extension: ``[{"loc", "msg", "type"}, …]``
  (never echo the input);
* ``sqlalchemy.exc.OperationalError``, ``TimeoutError``, ``ConnectionError`` → 503 with an integer
  ``Retry-After`` header;
* anything else → 500 with a generic ``detail`` — never the exception's text.

PostgreSQL names each integrity failure by SQLSTATE (``error.orig.sqlstate``): ``23505`` unique,
``23503`` foreign key, ``23514`` check, ``23502`` not null — decide by the code, not the message.
No problem may repeat an exception's text: PostgreSQL's message and DETAIL line quote the
offending row (another user's e-mail), a connection error names the host and database.
"""

from __future__ import annotations

import json  # noqa: F401, RUF100 - for your solution

import pydantic  # noqa: F401, RUF100 - for your solution
from sqlalchemy.exc import IntegrityError, OperationalError  # noqa: F401, RUF100 - for your solution

from reference.api_design.problems import (  # noqa: F401, RUF100 - for your solution
    Problem,
    ProblemError,
    validation_errors,
)

GENERIC_500 = "An unexpected error occurred."
RETRY_SECONDS = "5"


def integrity_status(error: IntegrityError) -> int:
    """409 for unique/foreign-key violations, 422 for check and not-null violations."""
    # TODO: read the SQLSTATE PostgreSQL attached to the error and pick the status from the table.
    raise NotImplementedError


def problem_for(error: BaseException) -> Problem:
    """The problem document (with headers) that ``error`` should become."""
    # TODO: implement the table in the module docstring, most specific exception first.
    raise NotImplementedError
