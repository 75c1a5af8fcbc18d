"""Decoy for 01.2: str.isdigit() before int(), which says yes to "²" and then int() raises a bare
ValueError, not InvalidQuery — caught by the limit=² case.

Caught by test_rejects_out_of_bounds_and_unknown_parameters.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine, asc, desc, func, select
from sqlalchemy.orm import Session

from reference.api_design.schemas import user_out
from reference.databases.models import User

SORTABLE = {"created_at": User.created_at, "email": User.email, "name": User.name}


class InvalidQuery(ValueError):
    """A query parameter is missing its bounds, not an integer, or not allowed."""


def parse_int(query: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    """``query[name]`` as an integer in ``[low, high]`` (``default`` when absent)."""
    raw = query.get(name)
    if raw is None:
        return default
    if not raw.isdigit():
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
