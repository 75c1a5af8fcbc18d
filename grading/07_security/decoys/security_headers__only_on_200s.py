"""Decoy for 07.1: headers only on successful responses (status < 400) — error pages go out bare. Caught by test_error_responses_have_every_header and test_a_crashing_handler_500_has_every_header."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reference.security.headers import HSTS, REMOVED_HEADERS, SECURITY_HEADERS

__all__ = ["HSTS", "REMOVED_HEADERS", "SECURITY_HEADERS", "security_headers"]


class _SecurityHeaders:
    """Hardens 2xx/3xx responses only."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def hardened(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] < 400:
                headers = MutableHeaders(scope=message)
                for name in REMOVED_HEADERS:
                    del headers[name]
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if scope["scheme"] == "https":
                    headers["Strict-Transport-Security"] = HSTS
            await send(message)

        await self.app(scope, receive, hardened)


def security_headers(app: ASGIApp) -> ASGIApp:
    return _SecurityHeaders(app)
