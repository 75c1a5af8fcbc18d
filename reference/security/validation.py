"""Strict input validation for chapter 07: strip, then check; refuse, never coerce or drop.

The pattern: one pydantic v2 model per input, in strict mode with unknown keys forbidden, that any
transport (REST, GraphQL, gRPC, a queue consumer) calls with ``model_validate`` — so the same input
gets the same answer everywhere. :class:`CreateUser` IS chapter 01's
:class:`~reference.api_design.schemas.UserCreate` (the fields and :func:`canonical_email` live
there, beside the other input models; this module adds the login model and the sign-up app).
Taught in ``notebooks/07_security_input.ipynb``.

What it fixes in the guide's Zod schema (``guide/security/validation.py``, guide-defects.md §7):

- **Order**: whitespace is stripped *before* lengths are checked (pydantic's ``StringConstraints``
  strips first), so ``"   a"`` and ``"    "`` are too short — the guide's ``.min(2)…trim()``
  checked the raw length and stored ``"a"`` and ``""``.
- **Status**: a refusal is 422 problem details (chapter 01's handlers), not a 400 with Zod's dump.
- **Passwords**: NIST 800-63B (:mod:`reference.security.breached`) — 8–128 characters, no
  composition rules, not on the breached list, not the account's own e-mail or name.
- **E-mail**: stripped, then chapter 01's :func:`~reference.api_design.schemas.normalize_email`
  (NFKC, RFC 5322 syntax, IDNA domain), then lower-cased whole:
  :func:`~reference.api_design.schemas.canonical_email` is the
  one key an account is known by, so ``" A@X.COM"`` is the account ``a@x.com`` (409 on sign-up) in
  PostgreSQL, MongoDB, Redis keys and the login throttle alike.
- **Operators**: strict ``str`` fields refuse a dict, so ``{"email": {"$ne": null}}`` is 422 —
  never a MongoDB operator, and never silently rewritten as ``mongo-sanitize`` does.
- **Unknown keys** (``"role": "admin"``) are 422 too; Zod drops them silently.

:func:`create_signup_app` puts the model behind HTTP on the course's users table, for the tests,
the notebook and exercise 07.4's grading (which plugs the learner's model in).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Annotated, Any

from argon2 import PasswordHasher
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from sqlalchemy import create_engine
from starlette.concurrency import run_in_threadpool

from reference.api_design.gate import parse_json
from reference.api_design.problems import BadRequest, Conflict, install_problem_handlers
from reference.api_design.repository import EmailTaken, UserRepository
from reference.api_design.schemas import Email, UserCreate
from reference.api_design.schemas import canonical_email as canonical_email  # this chapter's name
from reference.config import to_sqlalchemy_url
from reference.security.breached import MAX_LENGTH

# The one sign-up model of the course: chapter 01's REST, GraphQL and gRPC APIs validate with it
# too, so this chapter's policy and theirs cannot drift apart.
CreateUser = UserCreate


class Login(BaseModel):
    """A login attempt: two strings, nothing else (so no operator reaches a query)."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    email: Email
    password: Annotated[
        str, StringConstraints(min_length=1, max_length=MAX_LENGTH), Field(repr=False)
    ]


def login_filter(body: object) -> dict[str, str]:
    """The MongoDB filter for a login body; ``ValidationError`` (→ 422) unless it is two strings."""
    login = Login.model_validate(body)
    return {"email": login.email}


def create_signup_app(
    database_url: str,
    *,
    model: type[BaseModel] = CreateUser,
    password_hasher: PasswordHasher | None = None,
) -> FastAPI:
    """``POST /signup`` on the course users table: 201, 409 for a taken e-mail, 422 problem details
    for anything ``model`` refuses, 400 for a body that is not JSON. ``model`` must have ``email``,
    ``name`` and ``password`` fields (exercise 07.4 passes the learner's)."""
    engine = create_engine(to_sqlalchemy_url(database_url), pool_pre_ping=True, pool_size=2)
    repository = UserRepository(engine)
    hasher = password_hasher or PasswordHasher()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        engine.dispose()

    app = FastAPI(title="Sign-up (chapter 07)", lifespan=lifespan)
    install_problem_handlers(app)

    # The body is parsed by hand (so ``model`` can be any class), so its schema is declared here:
    # schemathesis's negative testing generates what this schema forbids.
    schema = model.model_json_schema()
    problem = {"application/problem+json": {"schema": {"type": "object"}}}

    @app.post(
        "/signup",
        status_code=201,
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": schema}},
            }
        },
        responses={
            400: {"description": "Not JSON", "content": problem},
            409: {"description": "E-mail taken", "content": problem},
            422: {"description": "Invalid body", "content": problem},
        },
    )
    async def signup(request: Request) -> JSONResponse:
        try:
            raw = parse_json(await request.body())
        except json.JSONDecodeError:
            raise BadRequest("The request body is not valid JSON.") from None
        try:
            body = model.model_validate(raw)
        except ValidationError as error:
            raise RequestValidationError(error.errors()) from None
        fields: Mapping[str, Any] = body.model_dump()
        password_hash = await run_in_threadpool(hasher.hash, fields["password"])
        try:
            record = await run_in_threadpool(
                repository.create,
                email=fields["email"],
                name=fields["name"],
                password_hash=password_hash,
            )
        except EmailTaken:
            raise Conflict("Another user has this e-mail address.") from None
        user = record.user
        return JSONResponse(
            {"id": str(user.id), "email": user.email, "name": user.name}, status_code=201
        )

    return app
