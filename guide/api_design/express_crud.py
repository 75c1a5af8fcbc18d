"""Port of the guide's "Level 2 REST API" Express router as a FastAPI app, defects included.

Guide (TypeScript, abridged)::

    router.get('/users', async (req, res) => {
      const { page = 1, limit = 20, sort = 'createdAt' } = req.query;
      const users = await userService.findAll({ page, limit, sort });
      res.json({ data: users, meta: { page, limit, total: users.total } });
    });
    router.get('/users/:id', … return res.status(404).json({ error: 'User not found' }); …
    router.post('/users', validateBody(createUserSchema), … res.status(201).json({ data: user }) …
    router.put / router.patch … res.json({ data: user }) …
    router.delete('/users/:id', … res.status(204).send() …

Defects kept (each has a test in ``tests/api_design/test_guide_defects.py``): query values are
strings (arrays when repeated) and unbounded; ``sort`` goes straight into ``orderBy``
(``sort=passwordHash`` is an oracle); ``meta.total`` is ``users.total`` of an array, so JSON drops
it; the id is not validated (PostgreSQL's uuid cast error → 500); PUT/PATCH/DELETE of a missing id →
500; a duplicate e-mail → 500; 201 without ``Location``; whole rows, ``passwordHash`` included, in
every response; no authentication or ownership check on any route; validation → 400. Express 4
leaves a rejected async handler hanging; FastAPI answers 500 instead, as plain text, not in any of
the guide's error shapes. ``level3=True`` answers ``GET /users/{id}`` with the guide's HATEOAS shape
(``hateoas.user_response``); ``verify_token`` puts the guide's ``authMiddleware`` in front of every
route (authentication only: still no ownership check).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from argon2 import PasswordHasher
from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import create_engine

from guide.api_design.auth_middleware import auth_middleware
from guide.api_design.hateoas import user_response
from guide.api_design.user_service import RouterCalls
from guide.api_design.validation import (
    CreateUserSchema,
    PatchUserSchema,
    UpdateUserSchema,
    ValidationFailed,
    validate,
    validation_failed_response,
)
from reference.config import to_sqlalchemy_url


def express_query(request: Request, name: str, default: Any) -> Any:
    """``req.query[name]``: a string, an array of strings when repeated, or the default."""
    values = request.query_params.getlist(name)
    if not values:
        return default
    return values[0] if len(values) == 1 else values


def create_guide_app(
    database_url: str,
    *,
    root_path: str = "",
    level3: bool = False,
    verify_token: Callable[[str], Any] | None = None,
    password_hasher: PasswordHasher | None = None,
) -> FastAPI:
    engine = create_engine(to_sqlalchemy_url(database_url))
    user_service = RouterCalls(engine, password_hasher)
    dependencies = [Depends(auth_middleware(verify_token))] if verify_token else []
    app = FastAPI(title="Guide port: Express users router", root_path=root_path)

    @app.exception_handler(ValidationFailed)
    async def _validation(_request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, ValidationFailed)
        return validation_failed_response(error)

    @app.get("/users", dependencies=dependencies)
    def list_users(request: Request) -> Any:
        page = express_query(request, "page", 1)
        limit = express_query(request, "limit", 20)
        sort = express_query(request, "sort", "createdAt")
        users = user_service.find_all(page, limit, sort)
        meta = {"page": page, "limit": limit, "total": getattr(users, "total", None)}
        # JSON.stringify drops undefined: `total` disappears from the wire.
        return {"data": users, "meta": {k: v for k, v in meta.items() if v is not None}}

    @app.get("/users/{id}", dependencies=dependencies)
    def get_user(id: str) -> Any:
        user = user_service.find_by_id(id)
        if not user:
            return JSONResponse({"error": "User not found"}, status_code=404)
        return user_response(user) if level3 else {"data": user}

    @app.post("/users", dependencies=dependencies)
    async def create_user(request: Request) -> Any:
        body = await validate(CreateUserSchema, request)
        user = user_service.create(body)
        return JSONResponse({"data": user}, status_code=201)

    @app.put("/users/{id}", dependencies=dependencies)
    async def update_user(id: str, request: Request) -> Any:
        body = await validate(UpdateUserSchema, request)
        return {"data": user_service.update(id, body)}

    @app.patch("/users/{id}", dependencies=dependencies)
    async def patch_user(id: str, request: Request) -> Any:
        body = await validate(PatchUserSchema, request)
        return {"data": user_service.patch(id, body)}

    @app.delete("/users/{id}", dependencies=dependencies)
    def delete_user(id: str) -> Response:
        user_service.delete(id)
        return Response(status_code=204)

    return app
