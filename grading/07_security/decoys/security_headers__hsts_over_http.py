"""Decoy for 07.1: HSTS on every response whatever the scheme (RFC 6797 §7.2 forbids it over HTTP). Caught by test_no_hsts_over_plain_http."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reference.security.headers import HSTS, REMOVED_HEADERS, SECURITY_HEADERS

__all__ = ["HSTS", "REMOVED_HEADERS", "SECURITY_HEADERS", "security_headers"]


class _SecurityHeaders:
    """Hardens every response; HSTS unconditionally."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def hardened(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                for name in REMOVED_HEADERS:
                    del headers[name]
                for name, value in {**SECURITY_HEADERS, "Strict-Transport-Security": HSTS}.items():
                    headers.setdefault(name, value)
            await send(message)

        try:
            await self.app(scope, receive, hardened)
        except Exception:
            if not started:
                await hardened({"type": "http.response.start", "status": 500, "headers": []})
                await send({"type": "http.response.body", "body": b"Internal Server Error"})
            raise


def security_headers(app: ASGIApp) -> ASGIApp:
    return _SecurityHeaders(app)
