"""Decoy for 01.3: every status right, but an integrity error's detail is PostgreSQL's DETAIL line
("Key (lower(email))=(…) already exists"), which shows another user's e-mail — caught by the leak test.

Caught by test_no_problem_leaks_the_exception_text.
"""

from __future__ import annotations

import json

import pydantic
from sqlalchemy.exc import IntegrityError, OperationalError

from reference.api_design.problems import (
    Problem,
    ProblemError,
    validation_errors,
)

GENERIC_500 = "An unexpected error occurred."
RETRY_SECONDS = "5"


def integrity_status(error: IntegrityError) -> int:
    """409 for unique/foreign-key violations, 422 for check and not-null violations."""
    sqlstate = getattr(error.orig, "sqlstate", None)
    return 422 if sqlstate in ("23514", "23502") else 409


def problem_for(error: BaseException) -> Problem:
    """The problem document (with headers) that ``error`` should become."""
    if isinstance(error, ProblemError):
        return error.problem
    if isinstance(error, json.JSONDecodeError):
        return Problem(400, detail="The request body is not valid JSON.")
    if isinstance(error, PermissionError):
        return Problem(403, detail="You may not do this.")
    if isinstance(error, LookupError):
        return Problem(404, detail="No such resource.")
    if isinstance(error, IntegrityError):
        status = integrity_status(error)
        # orig is psycopg's error (it has .diag) for every IntegrityError the tests provoke.
        detail = error.orig.diag.message_detail  # type: ignore[union-attr]
        return Problem(status, detail=detail)  # "Key (email)=(…) exists."
    if isinstance(error, pydantic.ValidationError):
        errors = validation_errors(error.errors(include_url=False, include_input=False))
        return Problem(422, detail="Some values are invalid.", extensions={"errors": errors})
    if isinstance(error, OperationalError | TimeoutError | ConnectionError):
        return Problem(503, detail="Try again shortly.", headers={"Retry-After": RETRY_SECONDS})
    return Problem(500, detail=GENERIC_500)
