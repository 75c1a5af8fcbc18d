"""Decoy for 07.1: the right values, but added in a call_next middleware — an exception skips them, so the 500 is bare. Caught by test_a_crashing_handler_500_has_every_header and test_an_app_that_dies_before_answering_still_gets_a_hardened_500."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp

from reference.security.headers import HSTS, REMOVED_HEADERS, SECURITY_HEADERS

__all__ = ["HSTS", "REMOVED_HEADERS", "SECURITY_HEADERS", "security_headers"]


class _SecurityHeaders(BaseHTTPMiddleware):
    """Headers on the response call_next returns."""

    async def dispatch(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        for name in REMOVED_HEADERS:
            del response.headers[name]
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.url.scheme == "https":
            response.headers["Strict-Transport-Security"] = HSTS
        return response


def security_headers(app: ASGIApp) -> ASGIApp:
    return _SecurityHeaders(app)
