"""Richardson's maturity levels, runnable: a level-0 and a level-1 users API beside the reference.

The pattern: the same repository served three ways. Level 0 tunnels every call through one URI
(``POST /rpc {"method": "getUser"}``) and answers 200 even for failures; level 1 gives each resource a
URI but still only POSTs an ``action``; level 2 is the reference app with links switched off; level 3
is the reference app. :class:`Exchange` records one request/response so a trace of them can be
classified (exercise 01.1). Taught in ``notebooks/01_api_design_rest.ipynb``.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from typing import Any

from fastapi import Body, FastAPI
from sqlalchemy import create_engine

from reference.api_design.repository import UserRepository
from reference.api_design.schemas import user_out
from reference.config import to_sqlalchemy_url


class Level(enum.IntEnum):
    SWAMP_OF_POX = 0
    RESOURCES = 1
    HTTP_VERBS = 2
    HYPERMEDIA = 3


@dataclass(frozen=True)
class Exchange:
    """One HTTP request and its response, as a client saw it."""

    method: str
    path: str  # may carry a query string
    status: int
    response: Any = None  # the decoded JSON body, if any


def no_links(*_args: Any) -> dict[str, Any]:
    """A link builder that advertises nothing: the reference app at level 2."""
    return {}


def _public(repository: UserRepository, user_id: str) -> dict[str, Any] | None:
    try:
        record = repository.get(uuid.UUID(user_id))
    except ValueError:
        return None
    return user_out(record.user).model_dump(mode="json") if record else None


def create_level0_app(database_url: str) -> FastAPI:
    """One endpoint, one verb: ``POST /rpc`` with ``{"method": …, "params": …}``; always 200."""
    repository = UserRepository(create_engine(to_sqlalchemy_url(database_url)))
    app = FastAPI(title="Level 0: the swamp of POX")

    @app.post("/rpc")
    def rpc(call: dict[str, Any] = Body(...)) -> dict[str, Any]:  # noqa: B008
        method, params = call.get("method"), call.get("params") or {}
        if method == "listUsers":
            records, total = repository.page(page=1, limit=10, sort="created_at")
            users = [user_out(r.user).model_dump(mode="json") for r in records]
            return {"result": users, "total": total}
        if method == "getUser":
            user = _public(repository, str(params.get("id")))
            return {"result": user} if user else {"error": "not found"}
        return {"error": f"unknown method {method!r}"}

    return app


def create_level1_app(database_url: str) -> FastAPI:
    """A URI per resource, but every call is ``POST`` with an ``action``; always 200."""
    repository = UserRepository(create_engine(to_sqlalchemy_url(database_url)))
    app = FastAPI(title="Level 1: resources")

    @app.post("/users")
    def users(call: dict[str, Any] = Body(...)) -> dict[str, Any]:  # noqa: B008
        if call.get("action") == "list":
            records, _total = repository.page(page=1, limit=10, sort="created_at")
            return {"result": [user_out(r.user).model_dump(mode="json") for r in records]}
        return {"error": "unknown action"}

    @app.post("/users/{user_id}")
    def user(user_id: str, call: dict[str, Any] = Body(...)) -> dict[str, Any]:  # noqa: B008
        if call.get("action") == "get":
            found = _public(repository, user_id)
            return {"result": found} if found else {"error": "not found"}
        return {"error": "unknown action"}

    return app
