"""Taught in notebooks/07_security_headers.ipynb §2.

Exercise 07.1: security headers on EVERY response — the 404, the 413 and the 500 included.

The guide's ``helmet()`` (ported as a Starlette ``@app.middleware``) decorates the response the
handler returns: when the handler raises, Starlette's ``ServerErrorMiddleware`` — outside every user
middleware — writes a 500 with none of the headers, and HSTS goes out over plain HTTP too.

Write ``security_headers(app)``: it returns a plain ASGI app that wraps the *whole* of ``app`` and
changes the ``http.response.start`` message on its way out, whoever sends it:

* every header of ``SECURITY_HEADERS`` (the OWASP Secure Headers values, imported below) that the
  response does not already set;
* ``Strict-Transport-Security: HSTS`` only when ``scope["scheme"]`` is ``https`` (RFC 6797 §7.2);
* none of ``REMOVED_HEADERS`` (``Server``, ``X-Powered-By`` …);
* if the app raises before it started a response, answer a 500 yourself (with the headers), then
  re-raise so the server still logs the error;
* scopes other than ``http`` (``lifespan``, ``websocket``) pass through untouched.
"""

from __future__ import annotations

from starlette import types as asgi
from starlette.types import ASGIApp

from reference.security.headers import HSTS, REMOVED_HEADERS, SECURITY_HEADERS

__all__ = ["HSTS", "REMOVED_HEADERS", "SECURITY_HEADERS", "security_headers"]


def security_headers(app: ASGIApp) -> ASGIApp:
    """``app`` wrapped so that every HTTP response it (or anything inside it) sends is hardened."""

    async def secured(scope: asgi.Scope, receive: asgi.Receive, send: asgi.Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        wanted = dict(SECURITY_HEADERS)
        if scope.get("scheme") == "https":
            wanted["Strict-Transport-Security"] = HSTS
        removed = {name.lower().encode() for name in REMOVED_HEADERS}
        started = False

        async def hardened(message: asgi.Message) -> None:
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
            await app(scope, receive, hardened)
        except Exception:
            if not started:
                await hardened({"type": "http.response.start", "status": 500, "headers": []})
                await send({"type": "http.response.body", "body": b"Internal Server Error"})
            raise

    return secured
