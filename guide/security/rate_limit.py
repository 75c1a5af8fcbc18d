"""The guide's rate limiting (OWASP Top 10 대응, "2. Rate Limiting"), ported faithfully to Starlette.

```typescript
app.use('/api/', rateLimit({ windowMs: 15 * 60 * 1000, max: 100 }));
app.use('/api/auth/login', rateLimit({ windowMs: 60 * 60 * 1000, max: 5, skipSuccessfulRequests: true }));
```

express-rate-limit's defaults are kept: a ``MemoryStore`` (a dict of hit counts in the process,
all reset together every ``windowMs``), keys from ``req.ip``, 429 past ``max``, and with
``skipSuccessfulRequests`` a decrement once a response below 400 has gone out. ``req.ip`` is the
TCP peer, or with Express's ``trust proxy: true`` the LEFTMOST ``X-Forwarded-For`` entry.

Defects (guide-defects.md §7, 7.1), each shown in tests/security/test_rate_limit_guide.py and
``notebooks/07_security_limits.ipynb``:

1. **Per-process store**: two app processes (or instances) each count on their own — twice the
   budget, N× with N workers.
2. **Behind a proxy everyone shares one bucket**: without ``trust proxy`` ``req.ip`` is the
   proxy, so the 6th login attempt of ANY user in the hour is refused.
3. **With ``trust proxy`` the header is spoofable**: the leftmost entry is whatever the client
   sent, so a new ``X-Forwarded-For`` is a new bucket — no limit at all.
4. **Login throttled per IP only**: one account attacked from 6 addresses is never refused.

Fixed in ``reference/security/client_ip.py`` and ``reference/security/login_throttle.py``.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp


class MemoryStore:
    """express-rate-limit's MemoryStore: counts per key, all cleared at once every window."""

    def __init__(self, window_ms: int) -> None:
        self.window_ms = window_ms
        self.hits: dict[str, int] = {}
        self.reset_at = time.monotonic() + window_ms / 1000

    def increment(self, key: str) -> int:
        if time.monotonic() >= self.reset_at:  # the setInterval(resetAll, windowMs)
            self.hits.clear()
            self.reset_at = time.monotonic() + self.window_ms / 1000
        self.hits[key] = self.hits.get(key, 0) + 1
        return self.hits[key]

    def decrement(self, key: str) -> None:
        if key in self.hits:
            self.hits[key] -= 1


def express_ip(request: Request, trust_proxy: bool) -> str:
    """Express's ``req.ip``: the peer, or with ``trust proxy: true`` the leftmost forwarded entry."""
    forwarded = request.headers.get("x-forwarded-for")
    if trust_proxy and forwarded:
        return forwarded.split(",")[0].strip()
    return request.client.host if request.client else ""


class RateLimit(BaseHTTPMiddleware):
    """``app.use(path, rateLimit({windowMs, max, skipSuccessfulRequests}))``."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        path: str,
        window_ms: int,
        max: int,  # the option's name in express-rate-limit
        skip_successful_requests: bool = False,
        trust_proxy: bool = False,
    ) -> None:
        super().__init__(app)
        self.path, self.max = path, max
        self.skip_successful_requests = skip_successful_requests
        self.trust_proxy = trust_proxy
        self.store = MemoryStore(window_ms)

    async def dispatch(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        if not request.url.path.startswith(self.path):
            return await call_next(request)
        key = express_ip(request, self.trust_proxy)
        if self.store.increment(key) > self.max:
            return JSONResponse({"message": "Too many requests, please try again later."}, 429)
        response = await call_next(request)
        if self.skip_successful_requests and response.status_code < 400:
            self.store.decrement(key)
        return response


def build_app(passwords: dict[str, str], *, trust_proxy: bool = False) -> Starlette:
    """An app with the guide's two limiters and a login route checking ``passwords`` (email → pw)."""

    async def login(request: Request) -> Response:
        body = await request.json()
        if passwords.get(body.get("email")) == body.get("password"):
            return JSONResponse({"ok": True})
        return JSONResponse({"message": "Invalid credentials"}, 401)

    async def users(request: Request) -> Response:
        return JSONResponse([])

    # Express runs app.use in order; Starlette's first listed middleware is the outermost, so the
    # same order: the /api/ limiter counts every request first, then the login limiter.
    limits = [
        Middleware(
            RateLimit, path="/api/", window_ms=15 * 60 * 1000, max=100, trust_proxy=trust_proxy
        ),
        Middleware(
            RateLimit,
            path="/api/auth/login",
            window_ms=60 * 60 * 1000,
            max=5,
            skip_successful_requests=True,
            trust_proxy=trust_proxy,
        ),
    ]
    routes = [Route("/api/auth/login", login, methods=["POST"]), Route("/api/users", users)]
    return Starlette(routes=routes, middleware=limits)
