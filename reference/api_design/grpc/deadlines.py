"""Respect the caller's deadline all the way down to PostgreSQL.

Pattern: deadline propagation. gRPC tells the server how long the client will wait
(``context.time_remaining()``); the server turns that budget into ``statement_timeout`` for the
transaction (``set_config(…, is_local => true)``), so a slow query is cancelled when the client has
given up instead of running on and holding a connection. No deadline still gets a ceiling. The
guide ignored deadlines. Taught in ``notebooks/01_api_design_grpc.ipynb``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, text

from reference.api_design.grpc.errors import DeadlineExceeded

DEFAULT_CEILING_SECONDS = 5.0


def budget_seconds(context: Any, ceiling: float = DEFAULT_CEILING_SECONDS) -> float:
    """Seconds left for this call: the client's deadline, capped by ``ceiling``."""
    remaining: float | None = context.time_remaining()
    return ceiling if remaining is None else min(ceiling, remaining)


@contextmanager
def transaction_within_deadline(
    engine: Engine, context: Any, ceiling: float = DEFAULT_CEILING_SECONDS
) -> Iterator[Connection]:
    """A transaction whose statements are cancelled when the caller's deadline passes."""
    budget = budget_seconds(context, ceiling)
    if budget <= 0:
        raise DeadlineExceeded("no time left")
    with engine.begin() as conn:
        conn.execute(
            text("SELECT set_config('statement_timeout', :ms, true)"),
            {"ms": str(max(1, int(budget * 1000)))},
        )
        yield conn
