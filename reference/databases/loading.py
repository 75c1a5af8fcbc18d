"""The N+1 query problem in the ORM, counted, and fixed with eager loading (``selectinload``).

The pattern: count the statements a piece of code sends — :class:`StatementCounter` hooks
SQLAlchemy's
``before_cursor_execute`` event — then fix lazy loading in a loop by loading the relationship for
all
parents at once. :func:`order_totals_lazy` sends 1 + N statements for N users;
:func:`order_totals_eager` sends 2 whatever N is. Both load only public user columns
(``load_only``), never ``password_hash``. Taught in ``notebooks/02_databases_orm.ipynb``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session, load_only, selectinload

from reference.databases.models import User
from reference.databases.pagination import check_limit


class StatementCounter:
    """Records every SQL statement an engine sends while active (``with StatementCounter(e) as
    c``)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.statements: list[str] = []

    def _record(self, *args: Any) -> None:
        # before_cursor_execute(conn, cursor, statement, parameters, context, executemany)
        self.statements.append(args[2])

    def __enter__(self) -> StatementCounter:
        event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._record)

    @property
    def count(self) -> int:
        return len(self.statements)


@contextmanager
def count_statements(engine: Engine) -> Iterator[StatementCounter]:
    with StatementCounter(engine) as counter:
        yield counter


def _newest_users(limit: int) -> Any:
    check_limit(limit)
    return (
        select(User)
        .options(load_only(User.id, User.name, User.created_at))
        .order_by(User.created_at.desc(), User.id.desc())
        .limit(limit)
    )


def order_totals_lazy(session: Session, limit: int = 20) -> dict[str, int]:
    """Name → total of all orders, for the newest users — one extra query per user (N+1)."""
    users = session.scalars(_newest_users(limit)).all()
    return {user.name: sum(order.total_cents for order in user.orders) for user in users}


def order_totals_eager(session: Session, limit: int = 20) -> dict[str, int]:
    """The same result in two queries: users, then all their orders in one ``IN (…)`` query."""
    users = session.scalars(_newest_users(limit).options(selectinload(User.orders))).all()
    return {user.name: sum(order.total_cents for order in user.orders) for user in users}
