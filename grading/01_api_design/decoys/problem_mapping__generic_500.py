"""Decoy for 01.3: keeps a ProblemError's own problem and answers a generic 500 for everything else
(one catch-all handler) — every row of the table but 401/429 and "anything else" fails.

Caught by test_exception_to_problem_table.
"""

from __future__ import annotations

from reference.api_design.problems import Problem, ProblemError


def problem_for(error: BaseException) -> Problem:
    if isinstance(error, ProblemError):
        return error.problem
    return Problem(500, detail="An unexpected error occurred.")
