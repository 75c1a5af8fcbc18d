"""The guide's ``setCacheHeaders`` Express middleware (캐싱 전략 › CDN 캐싱 헤더), ported to ASGI.

Taught in notebooks/06_caching_http.ipynb §1. Ported faithfully, defects included (guide-defects.md
§6.4; each has a test in ``tests/caching/test_cache_control.py`` and a fix in
``reference/caching/cache_control.py``):

- ``if (options.maxAge)`` is a truthiness test, so ``max_age=0`` ("revalidate every time") is
  dropped and the response goes out with no freshness rule at all — caches fall back to heuristics.
- ``public`` is the default: a personalised response (one answered to an ``Authorization`` request)
  is marked storable by every shared cache on the way.
- ``private`` + ``s_max_age`` is accepted and emitted (``private, s-maxage=…``): a contradiction.
- The header is set *before* the handler runs (``res.setHeader`` then ``next()``), so whatever the
  handler answers — a 404, a 500 — leaves with the same ``public, max-age=…``: errors are cached.
- No ``Vary`` and no ``no-store``: a cache keyed on the URL alone serves one user's body to the next.

Liberty of the port: Express's ``res.setHeader`` before ``next()`` lets the handler overwrite the
header; here the middleware fills ``Cache-Control`` into any response that has none, which is the same
outcome. Errors the app turns into responses (``HTTPException``, handlers returning 500) pass through
it, as they pass through Express's ``res``.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class SetCacheHeaders:
    """``app.use(setCacheHeaders({ maxAge, sMaxAge, private }))``."""

    def __init__(
        self,
        app: ASGIApp,
        max_age: int | None = None,
        s_max_age: int | None = None,
        private: bool = False,
    ) -> None:
        self.app = app
        directives = ["private" if private else "public"]
        if max_age:  # the guide's `if (options.maxAge)`: 0 is falsy, so max-age=0 is dropped
            directives.append(f"max-age={max_age}")
        if s_max_age:
            directives.append(f"s-maxage={s_max_age}")
        self.value = ", ".join(directives)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_header(message: Message) -> None:
            # Decided before the handler ran: the status the handler picked is never looked at.
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if "cache-control" not in headers:
                    headers["Cache-Control"] = self.value
            await send(message)

        await self.app(scope, receive, send_with_header)
