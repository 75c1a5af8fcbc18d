"""RFC 9457 problem details: one error shape for every failure the API can produce.

The pattern: handlers raise a :class:`ProblemError` (or let a framework or infrastructure error
escape); :func:`install_problem_handlers` turns each into ``application/problem+json`` with
``type``, ``title``, ``status``, ``detail`` and ``instance`` — unknown routes (404), wrong methods
(405, with ``Allow``), malformed bodies (400), validation (422, with the ``errors`` list), a body
that is not JSON (415) or too large (413), an unreachable database or Redis (503, with
``Retry-After``) and anything unexpected (500, whose body never carries the exception's text).
The guide's table omitted 405/412/428/503 and the headers 401 and 429 must carry; its
``validate()`` returned 400 where the table promised 422. Taught in
``notebooks/01_api_design_rest.ipynb``.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

import redis
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import OperationalError
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://backend-skill-lab.dev/problems/"
log = logging.getLogger(__name__)


class ProblemModel(BaseModel):
    """The body of every error response (documented in the OpenAPI spec)."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None


@dataclass(frozen=True)
class Problem:
    """One problem-details document plus the headers its status requires."""

    status: int
    title: str = ""
    detail: str | None = None
    type: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    extensions: Mapping[str, Any] = field(default_factory=dict)

    def body(self, instance: str | None = None) -> dict[str, Any]:
        """The JSON document: ``type``/``title`` default from the status (``about:blank`` style)."""
        title = self.title or HTTPStatus(self.status).phrase
        slug = title.lower().replace(" ", "-").replace("'", "")
        document: dict[str, Any] = {
            "type": self.type or TYPE_BASE + slug,
            "title": title,
            "status": self.status,
        }
        if self.detail is not None:
            document["detail"] = self.detail
        if instance is not None:
            document["instance"] = instance
        document.update(self.extensions)
        return document

    def response(self, instance: str | None = None) -> JSONResponse:
        """A ``JSONResponse`` with the problem+json media type and the problem's headers."""
        return JSONResponse(
            self.body(instance),
            status_code=self.status,
            headers=dict(self.headers),
            media_type=PROBLEM_JSON,
        )


class ProblemError(Exception):
    """Raise from a handler to answer with a problem document."""

    status = 500
    title = ""

    def __init__(
        self,
        detail: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or self.title)
        self.problem = Problem(
            status=self.status,
            title=self.title,
            detail=detail,
            headers=dict(headers or {}),
            extensions=extensions,
        )


class BadRequest(ProblemError):
    status, title = 400, "Bad Request"


class Unauthorized(ProblemError):
    """401 always names the scheme the client should use (RFC 9110 §11.6.1)."""

    status, title = 401, "Unauthorized"

    def __init__(self, detail: str = "A valid bearer token is required.", error: str = "") -> None:
        challenge = 'Bearer realm="backend-skill-lab"'
        if error:
            challenge += f', error="{error}"'
        super().__init__(detail, headers={"WWW-Authenticate": challenge})


class Forbidden(ProblemError):
    status, title = 403, "Forbidden"


class NotFound(ProblemError):
    status, title = 404, "Not Found"


class Conflict(ProblemError):
    status, title = 409, "Conflict"


class PreconditionFailed(ProblemError):
    status, title = 412, "Precondition Failed"


class UnsupportedMediaType(ProblemError):
    status, title = 415, "Unsupported Media Type"


class PreconditionRequired(ProblemError):
    status, title = 428, "Precondition Required"


class TooManyRequests(ProblemError):
    """429 with an integer ``Retry-After`` (delay-seconds; RFC 9110 §10.2.3 allows no fraction)."""

    status, title = 429, "Too Many Requests"

    def __init__(self, retry_after: float, detail: str = "Rate limit exceeded.") -> None:
        seconds = max(1, math.ceil(retry_after))
        super().__init__(detail, headers={"Retry-After": str(seconds)}, retry_after=seconds)


class ServiceUnavailable(ProblemError):
    status, title = 503, "Service Unavailable"

    def __init__(self, detail: str = "A backing service is unavailable.", retry_after: int = 5):
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


def validation_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """Pydantic's error list without ``input``/``ctx``/``url``: never echo what the client sent."""
    cleaned = []
    for error in errors:
        cleaned.append(
            {
                "loc": [str(part) for part in error.get("loc", ())],
                "msg": str(error.get("msg", "")),
                "type": str(error.get("type", "")),
            }
        )
    return cleaned


def _instance(request: Request) -> str:
    return request.url.path


async def _problem_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProblemError)
    return exc.problem.response(_instance(request))


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = validation_errors(exc.errors())
    invalid = [e for e in exc.errors() if e.get("type") == "json_invalid"]
    if invalid:
        # The body is not JSON at all: a syntax problem (400), not a semantic one (422). The
        # parser's reason names a position or a rule, never the client's bytes.
        reason = str(invalid[0].get("ctx", {}).get("error", "")).rstrip(".")
        detail = "The request body is not valid JSON" + (f": {reason}." if reason else ".")
        return Problem(400, detail=detail).response(_instance(request))
    problem = Problem(
        422,
        title="Unprocessable Content",
        detail="The request is well-formed but some values are invalid.",
        extensions={"errors": errors},
    )
    return problem.response(_instance(request))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers or {})
    detail = exc.detail if isinstance(exc.detail, str) else None
    if exc.status_code == 404:
        detail = f"No resource at {request.url.path}."
    elif exc.status_code == 405:
        detail = f"{request.method} is not allowed here; see the Allow header."
        headers["Allow"] = ", ".join(sorted(_allowed_methods(request)))
    return Problem(exc.status_code, detail=detail, headers=headers).response(_instance(request))


def _allowed_methods(request: Request) -> set[str]:
    """Every method some route takes at this path (Starlette's ``Allow`` names only one route)."""
    allowed: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches(request.scope)
        if match is Match.PARTIAL and isinstance(route, BaseRoute):
            allowed |= set(getattr(route, "methods", None) or ())
    return allowed


async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
    log.warning("backing service unavailable: %s", type(exc).__name__)
    return ServiceUnavailable().problem.response(_instance(request))


class CatchAllMiddleware:
    """Turn any unhandled exception into a bare 500 problem — logged, never echoed to the client.

    Starlette's own ``Exception`` handler re-raises after answering (test clients then raise); this
    answers and stops, so a client sees exactly what production would send.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise
            body = Problem(500, detail="An unexpected error occurred.").body(scope.get("path"))
            payload = json.dumps(body).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [
                        (b"content-type", PROBLEM_JSON.encode()),
                        (b"content-length", str(len(payload)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": payload})


class ProblemCORSMiddleware(CORSMiddleware):
    """Starlette's CORS policy, with a refused preflight as a problem document (not plain text)."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code != 400:
            return response
        # Starlette's text names what was refused ("Disallowed CORS origin, method"), not values.
        detail = bytes(response.body).decode() + "; see this API's CORS allow-list."
        return Problem(400, detail=detail).response()


def install_problem_handlers(app: FastAPI) -> None:
    """Register the handlers and the catch-all so every error leaves as problem+json."""
    app.add_exception_handler(ProblemError, _problem_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(OperationalError, _unavailable)
    app.add_exception_handler(redis.ConnectionError, _unavailable)
    app.add_exception_handler(redis.TimeoutError, _unavailable)
    app.add_middleware(CatchAllMiddleware)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries declaring ``statuses`` as problem+json."""
    return {
        status: {
            "description": HTTPStatus(status).phrase,
            "content": {PROBLEM_JSON: {"schema": ProblemModel.model_json_schema()}},
        }
        for status in statuses
    }
