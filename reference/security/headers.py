"""Security headers on every response — 404, 405, 413 and 500 included — as one outermost ASGI wrapper.

The pattern: the headers are added where the response *leaves*, not where the request arrives. The
guide's ``helmet()`` port (``guide/security/headers_cors.py``) is a Starlette ``@app.middleware``
that decorates the response ``call_next`` returns; an exception escapes ``call_next``, Starlette's
``ServerErrorMiddleware`` (outside every user middleware) writes the 500, and that 500 has none of
the headers. :class:`SecurityHeadersMiddleware` wraps the *whole* application instead and rewrites
the ``http.response.start`` message whoever sends it (router 404/405, the chapter-01 gate's 413,
the server-error 500); if the app dies before starting a response it answers the 500 itself.

The values follow the OWASP Secure Headers Project's recommendations for a JSON API
(https://owasp.org/www-project-secure-headers/, ``ci/headers_add.json``): a CSP that allows
nothing (an API serves no documents; ``frame-ancestors 'none'`` is the modern clickjacking
defence, ``X-Frame-Options: DENY`` the legacy one), ``nosniff``, ``no-referrer``, COOP/CORP/COEP
isolating the origin, a Permissions-Policy switching features off, and HSTS — only over HTTPS:
RFC 6797 §7.2 says a host MUST NOT send it over plain HTTP (a man in the middle could strip or
forge it there; only a secure answer may pin the browser to HTTPS). The headers OWASP says to
*remove* (``Server``, ``X-Powered-By``, ``X-AspNet-Version`` …) are removed. A handler that set
one of the headers deliberately (e.g. an HTML docs page needing its own CSP) keeps its value.

Taught in ``notebooks/07_security_headers.ipynb``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reference.security.cors import allow_list_cors

HSTS = "max-age=31536000; includeSubDomains"

# One name per header, values from the OWASP Secure Headers Project for an API that serves JSON.
SECURITY_HEADERS: Mapping[str, str] = {
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
    "Permissions-Policy": "camera=(), geolocation=(), microphone=(), payment=(), usb=()",
    "X-Permitted-Cross-Domain-Policies": "none",
}

# OWASP's headers_remove.json: they tell an attacker which software (and version) to aim at.
REMOVED_HEADERS = ("Server", "X-Powered-By", "X-AspNet-Version", "X-AspNetMvc-Version")

_FALLBACK_500 = b'{"type":"about:blank","title":"Internal Server Error","status":500}'


def security_headers(scheme: str) -> dict[str, str]:
    """The headers a response over ``scheme`` (``http``/``https``/``ws``/``wss``) must carry."""
    headers = dict(SECURITY_HEADERS)
    if scheme in ("https", "wss"):
        headers["Strict-Transport-Security"] = HSTS
    return headers


class SecurityHeadersMiddleware:
    """Wrap an ASGI app so that every HTTP response it (or anything inside it) sends is hardened."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        wanted = security_headers(scope.get("scheme", "http"))
        started = False

        async def harden(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                for name in REMOVED_HEADERS:
                    del headers[name]
                for name, value in wanted.items():
                    headers.setdefault(name, value)
            await send(message)

        try:
            await self.app(scope, receive, harden)
        except Exception:
            # Nothing answered yet (an app without Starlette's ServerErrorMiddleware): answer the
            # 500 here so the client still gets the headers, then let the server log the error.
            if not started:
                await harden(
                    {
                        "type": "http.response.start",
                        "status": 500,
                        "headers": [(b"content-type", b"application/problem+json")],
                    }
                )
                await send({"type": "http.response.body", "body": _FALLBACK_500})
            raise


def missing_headers(headers: Mapping[str, str], *, https: bool) -> list[str]:
    """Which expected headers a response lacks or weakens (``[]`` when it is fine).

    The check the tests, the grader and the notebook share: present with the expected value, HSTS
    exactly when the response came over HTTPS, and none of the headers OWASP says to remove.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    problems = [
        name
        for name, value in security_headers("https" if https else "http").items()
        if lowered.get(name.lower()) != value
    ]
    if not https and "strict-transport-security" in lowered:
        problems.append("Strict-Transport-Security over plain HTTP")
    problems += [f"{name} present" for name in REMOVED_HEADERS if name.lower() in lowered]
    return problems


def harden(app: ASGIApp, cors_origins: Iterable[str] = ()) -> SecurityHeadersMiddleware:
    """``app`` behind the chapter's stack: security headers outermost, then the CORS allow-list.

    Headers outermost so that CORS preflights and refusals carry them too. The body cap is not a
    wrapper: build the app on chapter 01's gate (``gated_route``), which answers 413 from the
    declared ``Content-Length`` before reading, and stops a streamed body at the cap.
    """
    return SecurityHeadersMiddleware(allow_list_cors(app, cors_origins))
