"""The chapter 06 demo origin for the launcher's nginx: a small app behind :class:`CachePolicy`.

Pattern: the origin decides cacheability (``cache_control`` + the after-the-handler policy), the
shared cache in front obeys it. Taught in notebooks/06_caching_http.ipynb §3. The launcher's nginx
(``course services up nginx``, ``CACHE_PROXY_URL``) proxies to ``127.0.0.1:CACHE_ORIGIN_PORT``;
``uv run python -m reference.caching.demo`` serves this app there, so you can watch
``X-Cache-Status`` with ``curl -i http://127.0.0.1:18090/catalogue`` (MISS, then HIT), ``/me`` with an
``Authorization`` header (never stored), ``/boom`` (a 500, never stored) or ``/slow`` (200 ms of work).
"""

from __future__ import annotations

import asyncio
import sys

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from reference.caching.cache_control import CachePolicy, cache_control

SLOW_WORK_S = 0.2


async def me(request: Request) -> Response:
    return JSONResponse({"user": request.headers.get("authorization")})


async def catalogue(request: Request) -> Response:
    return JSONResponse(
        {"items": ["tea", "coffee"]},
        headers={"Cache-Control": cache_control(public=True, max_age=0, s_maxage=60)},
    )


async def slow(request: Request) -> Response:
    await asyncio.sleep(SLOW_WORK_S)
    return JSONResponse(
        {"report": "done"},
        headers={"Cache-Control": cache_control(public=True, max_age=0, s_maxage=5)},
    )


async def boom(request: Request) -> Response:
    return JSONResponse({"error": "database down"}, status_code=500)


async def missing(request: Request) -> Response:
    raise HTTPException(404)


def build_app() -> ASGIApp:
    """The demo routes behind the reference policy."""
    routes = [
        Route("/me", me),
        Route("/catalogue", catalogue),
        Route("/slow", slow),
        Route("/boom", boom),
        Route("/missing", missing),
    ]
    return CachePolicy(Starlette(routes=routes))


def main(argv: list[str] | None = None) -> int:
    """Serve the demo on 127.0.0.1:CACHE_ORIGIN_PORT until Ctrl-C."""
    import uvicorn

    from reference.config import get_settings

    del argv  # no options: the port is the launcher's setting
    port = get_settings()["CACHE_ORIGIN_PORT"]
    if not port.isdigit() or not 0 < int(port) < 65536:
        sys.stderr.write(f"CACHE_ORIGIN_PORT must be a port number, not {port!r}\n")
        return 2
    uvicorn.run(build_app(), host="127.0.0.1", port=int(port), log_level="warning")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
