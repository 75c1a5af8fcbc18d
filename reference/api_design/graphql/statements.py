"""Count the SQL statements an engine sends — the measurement behind every N+1 claim.

Pattern: an SQLAlchemy ``before_cursor_execute`` event hook. It sees every statement that reaches
the driver (ORM, Core and raw SQL alike), so "this query runs ≤ 3 statements" becomes an assertion.
Works for sync engines and, through ``AsyncEngine.sync_engine``, async ones. Taught in
``notebooks/01_api_design_graphql.ipynb``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.ext.asyncio import AsyncEngine


@dataclass
class StatementLog:
    """The statements seen while a :func:`count_statements` block was open."""

    statements: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)


@contextmanager
def count_statements(engine: Engine | AsyncEngine) -> Iterator[StatementLog]:
    """Record every statement ``engine`` executes inside the ``with`` block."""
    sync_engine = engine.sync_engine if isinstance(engine, AsyncEngine) else engine
    log = StatementLog()

    def record(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
    ) -> None:
        log.statements.append(statement)

    event.listen(sync_engine, "before_cursor_execute", record)
    try:
        yield log
    finally:
        event.remove(sync_engine, "before_cursor_execute", record)
