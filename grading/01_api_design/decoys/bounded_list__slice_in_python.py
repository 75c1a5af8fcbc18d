"""Decoy for 01.2: fetches every user in order, counts them with len() and slices the page in Python
— right answers, the whole table on every request; caught by test_the_database_does_the_paging."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine, asc, desc, select
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
        everyone = session.scalars(
            select(User).order_by(direction(column), direction(User.id))
        ).all()
        total = len(everyone)
        users = everyone[(page - 1) * limit : page * limit]
        data = [user_out(user).model_dump(mode="json") for user in users]
    return {"data": data, "meta": {"page": page, "limit": limit, "total": total}}
