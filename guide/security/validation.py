"""The guide's input validation (보안 베스트 프랙티스 › 입력 검증 (Zod)), ported faithfully to pydantic and
Starlette — defects included. Shown failing in ``notebooks/07_security_input.ipynb``; the fix is
:mod:`reference.security.validation`.

The guide::

    const createUserSchema = z.object({
      email: z.string().email().max(255).toLowerCase(),
      password: z.string().min(8).max(128)
        .regex(/[A-Z]/, 'Must contain uppercase')
        .regex(/[a-z]/, 'Must contain lowercase')
        .regex(/[0-9]/, 'Must contain number'),
      name: z.string().min(2).max(100).trim()
    });
    function validate(schema) { … res.status(400).json({ error: 'Validation failed',
                                                         details: error.errors }) … }
    app.use(mongoSanitize());

Defects (guide-defects.md §7.1, §7.2):

1. **Length before trim** (7.2): Zod runs a chain in order, so ``.min(2).max(100).trim()`` checks
   the raw length and trims afterwards: ``"   a"`` is stored as ``"a"`` and ``"    "`` as ``""``.
   Ported as ``Field(min_length=2)`` followed by an ``AfterValidator(str.strip)``.
2. **400, not 422** (7.2): the validate middleware answers every refusal with 400 and Zod's raw
   error list (which echoes the input), where the API's table promises 422 problem details.
3. **Composition rules** (7.2): upper/lower/digit regexes — ``Password1`` passes (and is in every
   breach corpus), ``correct horse battery staple`` is refused; NIST 800-63B asks for length and a
   breached-password check instead.
4. **Unknown keys dropped silently**: ``z.object`` strips keys it does not know (``"role"``),
   so a client never learns its field was ignored (pydantic's ``extra="ignore"``).
5. **mongo-sanitize rewrites instead of refusing** (7.1): ``{"email": {"$ne": null}}`` becomes
   ``{"email": {}}`` and the request goes on; any key with a ``.`` or a leading ``$`` anywhere in
   any body is deleted without a word (``{"prefs": {"a.b": 1}}`` loses its data). Injection is
   prevented by accident of the rewrite, not refused with a 422.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

# Zod 3's z.string().email() pattern (case-insensitive).
_ZOD_EMAIL = re.compile(
    r"^(?!\.)(?!.*\.\.)([A-Z0-9_'+\-\.]*)[A-Z0-9_+-]@([A-Z0-9][A-Z0-9\-]*\.)+[A-Z]{2,}$",
    re.IGNORECASE,
)


def _email(value: str) -> str:
    if not _ZOD_EMAIL.match(value):
        raise ValueError("Invalid email")
    return value


def _regex(pattern: str, message: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if not re.search(pattern, value):
            raise ValueError(message)
        return value

    return check


class CreateUserSchema(BaseModel):
    """``createUserSchema``: each chain step in the guide's order (defects 1, 3, 4)."""

    model_config = ConfigDict(extra="ignore")  # z.object strips unknown keys silently

    email: Annotated[str, AfterValidator(_email), Field(max_length=255), AfterValidator(str.lower)]
    password: Annotated[
        str,
        Field(min_length=8, max_length=128),
        AfterValidator(_regex("[A-Z]", "Must contain uppercase")),
        AfterValidator(_regex("[a-z]", "Must contain lowercase")),
        AfterValidator(_regex("[0-9]", "Must contain number")),
    ]
    name: Annotated[str, Field(min_length=2, max_length=100), AfterValidator(str.strip)]


Handler = Callable[[Request, BaseModel], Awaitable[Response]]


def validate(
    schema: type[BaseModel],
) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    """The guide's ``validate(schema)`` middleware: parse the body or answer 400 (defect 2)."""

    def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            try:
                body = mongo_sanitize(await request.json())  # app.use(mongoSanitize()) ran first
                parsed = schema.model_validate(body)
            except ValidationError as error:
                details = json.loads(error.json())  # Zod's error.errors, input echoed included
                return JSONResponse(
                    {"error": "Validation failed", "details": details}, status_code=400
                )
            return await handler(request, parsed)

        return endpoint

    return wrap


def mongo_sanitize(value: Any) -> Any:
    """express-mongo-sanitize: delete, recursively, every key that starts with ``$`` or holds a
    ``.`` (defect 5: silently, whatever the body was for)."""
    if isinstance(value, dict):
        return {
            key: mongo_sanitize(item)
            for key, item in value.items()
            if not (key.startswith("$") or "." in key)
        }
    if isinstance(value, list):
        return [mongo_sanitize(item) for item in value]
    return value


def create_guide_app(store: Callable[[BaseModel], Awaitable[None]]) -> Starlette:
    """``router.post('/users', validate(createUserSchema), …)``: ``store`` receives the parsed
    body; the answer is 201 with what was stored."""

    @validate(CreateUserSchema)
    async def create_user(_request: Request, body: BaseModel) -> Response:
        await store(body)
        return JSONResponse(body.model_dump(exclude={"password"}), status_code=201)

    return Starlette(routes=[Route("/users", create_user, methods=["POST"])])
