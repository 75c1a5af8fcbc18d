"""Decoy for 01.2: the guide's handler — string parameters, no bounds, unchecked sort, and
``meta.total`` taken from an array (undefined, so it vanishes).

Caught by test_rejects_out_of_bounds_and_unknown_parameters.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine

from guide.api_design.user_service import RouterCalls


class InvalidQuery(ValueError):
    pass


def list_users(engine: Engine, query: Mapping[str, str]) -> dict[str, Any]:
    page, limit = query.get("page", 1), query.get("limit", 20)
    sort = {"created_at": "createdAt"}.get(query.get("sort", "created_at"), query.get("sort"))
    users = RouterCalls(engine).find_all(page, limit, sort)
    meta = {"page": page, "limit": limit, "total": getattr(users, "total", None)}
    return {"data": users, "meta": {k: v for k, v in meta.items() if v is not None}}
