"""Decoy for 07.1: the guide's helmet() as a call_next middleware with helmet's values (frame-ancestors 'self', SAMEORIGIN, HSTS always). Caught by test_a_crashing_handler_500_has_every_header, test_no_hsts_over_plain_http and test_a_normal_response_has_every_header."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp

from guide.security.headers_cors import HELMET_HEADERS
from reference.security.headers import HSTS, REMOVED_HEADERS, SECURITY_HEADERS

__all__ = ["HSTS", "REMOVED_HEADERS", "SECURITY_HEADERS", "security_headers"]


class _SecurityHeaders(BaseHTTPMiddleware):
    """helmet(): headers on the response call_next returns."""

    async def dispatch(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        response.headers.update(HELMET_HEADERS)
        return response


def security_headers(app: ASGIApp) -> ASGIApp:
    return _SecurityHeaders(app)
