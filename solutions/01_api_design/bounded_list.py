"""Taught in notebooks/01_api_design_rest.ipynb §2.

Exercise 01.2 — a bounded users list with a total you can trust.

``list_users(engine, query)`` receives the raw query string as the guide's Express handler did
(``{"page": "2", "limit": "20", "sort": "-email"}`` — every value a string) and returns::

    {"data": [<public user>, …], "meta": {"page": 2, "limit": 20, "total": 57}}

Rules: ``page`` is an integer from 1 to 1,000,000 (default 1; past that OFFSET overflows);
``limit`` an integer from 1 to 100 (default 20); both written with the ASCII digits 0-9 only
(``str.isdigit()`` also accepts "²"). ``sort`` one of ``created_at, -created_at, email, -email,
name, -name`` (default ``created_at``; ``-`` means descending). Anything else raises
:class:`InvalidQuery`. ``meta.total`` counts every user, on every page, and describes the same
state of the table as ``data`` (one snapshot, even while others insert). The database does the
paging (LIMIT/OFFSET): never fetch the whole table to slice or count it in Python. Walking the pages
in order must visit every user exactly once — even when many users share a ``created_at``. A
public user is ``UserOut`` (no password hash, ever).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine, func, select  # noqa: F401, RUF100 - for your solution
from sqlalchemy.orm import Session  # noqa: F401, RUF100 - for your solution
from sqlalchemy.sql.expression import asc, desc

from reference.api_design.schemas import user_out  # noqa: F401, RUF100 - for your solution
from reference.databases.models import User

SORTABLE = {"created_at": User.created_at, "email": User.email, "name": User.name}


class InvalidQuery(ValueError):
    """A query parameter is missing its bounds, not an integer, or not allowed."""


def parse_int(query: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    """``query[name]`` as an integer in ``[low, high]`` (``default`` when absent)."""
    raw = query.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()):  # isdigit() alone accepts "²", which int() refuses
        raise InvalidQuery(f"{name} must be a whole number, got {raw!r}")
    value = int(raw)
    if not low <= value <= high:
        raise InvalidQuery(f"{name} must be between {low} and {high}, got {value}")
    return value


def list_users(engine: Engine, query: Mapping[str, str]) -> dict[str, Any]:
    """One page of public users and the true total (see the module docstring)."""
    page = parse_int(query, "page", 1, 1, 1_000_000)
    limit = parse_int(query, "limit", 20, 1, 100)
    sort = query.get("sort", "created_at")
    column = SORTABLE.get(sort.removeprefix("-"))
    if column is None:
        raise InvalidQuery(f"sort must be one of {sorted(SORTABLE)} (optionally with '-')")
    direction = desc if sort.startswith("-") else asc
    with Session(engine) as session, session.begin():
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        total = session.scalar(select(func.count()).select_from(User)) or 0
        users = session.scalars(
            select(User)
            .order_by(direction(column), direction(User.id))  # the id breaks ties: no repeats
            .offset((page - 1) * limit)
            .limit(limit)
        ).all()
        data = [user_out(user).model_dump(mode="json") for user in users]
    return {"data": data, "meta": {"page": page, "limit": limit, "total": total}}
