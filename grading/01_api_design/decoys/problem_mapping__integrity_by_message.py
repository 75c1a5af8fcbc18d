"""Decoy for 01.3: tells a check violation from a conflict by searching the message for "check
constraint" instead of reading the SQLSTATE — a not-null violation (23502) becomes 409, not 422.

Caught by test_exception_to_problem_table.
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
    return 422 if "check constraint" in str(error.orig) else 409


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
        return Problem(status, detail="The change conflicts with the data's constraints.")
    if isinstance(error, pydantic.ValidationError):
        errors = validation_errors(error.errors(include_url=False, include_input=False))
        return Problem(422, detail="Some values are invalid.", extensions={"errors": errors})
    if isinstance(error, OperationalError | TimeoutError | ConnectionError):
        return Problem(503, detail="Try again shortly.", headers={"Retry-After": RETRY_SECONDS})
    return Problem(500, detail=GENERIC_500)
