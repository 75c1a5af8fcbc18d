"""Decoy for 01.3: the guide's error handling — validation is 400 (its ``validate()``), a 500
carries ``error.message``, and no 401/429/503 gets the header its status requires.

Caught by test_exception_to_problem_table.
"""

from __future__ import annotations

import json

import pydantic
from sqlalchemy.exc import IntegrityError

from reference.api_design.problems import Problem, ProblemError


def problem_for(error: BaseException) -> Problem:
    if isinstance(error, ProblemError):
        return Problem(error.problem.status, detail=str(error))  # headers dropped
    if isinstance(error, pydantic.ValidationError | json.JSONDecodeError):
        return Problem(400, title="Validation failed")
    if isinstance(error, LookupError):
        return Problem(404, detail="User not found")
    if isinstance(error, IntegrityError):
        return Problem(409)
    return Problem(500, detail=str(error))  # `{ error: error.message }`
