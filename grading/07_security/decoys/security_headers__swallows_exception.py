"""Decoy for 07.1: the crash is answered with a hardened 500 and then swallowed — the server never logs it. Caught by test_the_error_still_reaches_the_server."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reference.security.headers import HSTS, REMOVED_HEADERS, SECURITY_HEADERS

__all__ = ["HSTS", "REMOVED_HEADERS", "SECURITY_HEADERS", "security_headers"]


class _SecurityHeaders:
    """ASGI middleware: the security headers on every HTTP response of the wrapped app."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass ``scope`` to the app with a ``send`` that hardens the response start."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        wanted = dict(SECURITY_HEADERS)
        if scope.get("scheme") == "https":
            wanted["Strict-Transport-Security"] = HSTS
        removed = {name.lower().encode() for name in REMOVED_HEADERS}
        started = False

        async def hardened(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                raw = [(k, v) for k, v in message.get("headers", []) if k.lower() not in removed]
                present = {k.lower() for k, _ in raw}
                raw += [
                    (name.lower().encode(), value.encode())
                    for name, value in wanted.items()
                    if name.lower().encode() not in present
                ]
                message = {**message, "headers": raw}
            await send(message)

        try:
            await self.app(scope, receive, hardened)
        except Exception:  # noqa: BLE001 — the shortcut this decoy shows
            if not started:
                await hardened({"type": "http.response.start", "status": 500, "headers": []})
                await send({"type": "http.response.body", "body": b"Internal Server Error"})


def security_headers(app: ASGIApp) -> ASGIApp:
    return _SecurityHeaders(app)
