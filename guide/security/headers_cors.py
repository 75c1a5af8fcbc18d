"""The guide's ``helmet(...)`` and ``cors(...)`` lines (보안 베스트 프랙티스 › OWASP Top 10 대응), ported.

The Express original::

    app.use(helmet({
      contentSecurityPolicy: { directives: { defaultSrc: ["'self'"], scriptSrc: ["'self'"] } },
      hsts: { maxAge: 31536000, includeSubDomains: true }
    }));
    app.use(cors({ origin: ['https://example.com'], credentials: true,
                   methods: ['GET', 'POST', 'PUT', 'DELETE'] }));

Ported with Starlette's own pieces: helmet becomes an ``@app.middleware("http")`` function that
sets helmet 7's default headers (with the guide's CSP directives merged into helmet's defaults, as
helmet does) on the response, and ``cors`` becomes ``CORSMiddleware`` with the same options.
Nothing caps the body (the guide's snippet configures no limit; a bare Starlette/FastAPI app reads
any size — ``express.json()`` would at least default to 100 kB).

Defects (guide-defects.md §7.1), each shown in ``tests/security/test_headers.py`` /
``test_cors.py`` (the ``test_guide_*`` tests) and fixed in ``reference/security/``:

1. CORS ``methods`` leaves out PATCH, which the guide's router uses: the browser's PATCH preflight
   is refused (400, PATCH not in ``Access-Control-Allow-Methods``), so the front end cannot update
   anything.
2. No body-size limit: a 2 MiB JSON body is read and parsed in full (reference: 413 before parsing,
   chapter 01's gate).
3. The headers are added to the response the handler returns, so an unhandled exception's 500
   (written by Starlette's ``ServerErrorMiddleware``, outside every user middleware) has none of them.
4. HSTS is sent over plain HTTP too (helmet does not look at the scheme); RFC 6797 §7.2 forbids it.
5. ``credentials: true`` is announced to every origin, listed or not (the ``cors`` package and
   Starlette both add ``Access-Control-Allow-Credentials`` before checking the origin).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from starlette.middleware.cors import CORSMiddleware

# helmet 7's defaults with the guide's two directives merged in (helmet keeps its other defaults).
HELMET_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self';script-src 'self';base-uri 'self';font-src 'self' https: data:;"
        "form-action 'self';frame-ancestors 'self';img-src 'self' data:;object-src 'none';"
        "script-src-attr 'none';style-src 'self' https: 'unsafe-inline';upgrade-insecure-requests"
    ),
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Origin-Agent-Cluster": "?1",
    "Referrer-Policy": "no-referrer",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "X-DNS-Prefetch-Control": "off",
    "X-Download-Options": "noopen",
    "X-Frame-Options": "SAMEORIGIN",
    "X-Permitted-Cross-Domain-Policies": "none",
    "X-XSS-Protection": "0",
}

GUIDE_ORIGINS = ["https://example.com"]
GUIDE_METHODS = ["GET", "POST", "PUT", "DELETE"]  # defect 1: no PATCH


def secure_like_the_guide(app: FastAPI) -> FastAPI:
    """Apply the guide's helmet + cors configuration to ``app`` (defects included) and return it."""

    @app.middleware("http")
    async def helmet(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)  # defect 3: an exception skips the lines below
        response.headers.update(HELMET_HEADERS)  # defect 4: whatever the scheme
        return response

    app.add_middleware(
        CORSMiddleware,
        allow_origins=GUIDE_ORIGINS,
        allow_credentials=True,  # defect 5: announced to every origin
        allow_methods=GUIDE_METHODS,
    )
    return app
