"""Fixtures shared by the chapter-07 tests: a small items API on chapter 01's gate (PATCH route, a
handler that crashes) and a course CA generated once per session in a temporary directory."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI, Request
from pydantic import BaseModel

from reference.api_design.gate import gated_route
from reference.api_design.problems import install_problem_handlers
from reference.security.tls import TLSFiles, generate


class Item(BaseModel):
    name: str


async def _admit_anyone(_request: Request) -> None:
    """No authentication: these tests are about what happens around the handler."""


def build_items_app(*, gated: bool) -> FastAPI:
    """GET/PATCH /items/{id}, POST /items, GET /boom (raises). ``gated``: chapter 01's body cap
    and problem handlers; without, a bare FastAPI app such as the guide's port starts from."""
    app = FastAPI()
    if gated:
        app.router.route_class = gated_route(_admit_anyone)
        install_problem_handlers(app)

    @app.get("/items/{item_id}")
    async def read(item_id: int) -> dict[str, object]:
        return {"id": item_id, "name": "pen"}

    @app.patch("/items/{item_id}")
    async def patch(item_id: int, item: Item) -> dict[str, object]:
        return {"id": item_id, "name": item.name}

    @app.post("/items", status_code=201)
    async def create(item: Item) -> dict[str, object]:
        return {"id": 1, "name_length": len(item.name)}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("the handler crashed")

    return app


@pytest.fixture
def items_app() -> Callable[..., FastAPI]:
    return build_items_app


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TLSFiles:
    """A fresh course CA and localhost certificate (the real ones live in the state dir)."""
    return generate(tmp_path_factory.mktemp("tls"))
