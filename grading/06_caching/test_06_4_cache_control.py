"""Grading for exercise 06.4: Cache-Control headers that cannot lie (exercises/06_caching/cache_control.py).

The learner's ``final_headers`` runs in a small ASGI middleware *after* a Starlette app's handlers,
exactly where a real policy middleware would; the handlers declare their headers with the learner's
``cache_control``. Responses are read through Starlette's test client.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def policy(app: ASGIApp, final_headers: Any) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        authorized = any(name == b"authorization" for name, _ in scope.get("headers", []))

        async def send_after(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in final_headers(
                    message["status"], authorized, headers.get("cache-control"), headers.get("vary")
                ).items():
                    headers[name] = value
            await send(message)

        await app(scope, receive, send_after)

    return middleware


@pytest.fixture(scope="module")
def client(exercise: ModuleType) -> TestClient:
    cc = exercise.cache_control

    def profile(request: Request) -> Response:
        # A personalised page whose author forgot `private`: the policy must catch it.
        return JSONResponse(
            {"me": request.headers.get("authorization")}, headers={"Cache-Control": cc(max_age=60)}
        )

    def catalogue(request: Request) -> Response:
        return JSONResponse(
            {"items": []},
            headers={
                "Cache-Control": cc(public=True, max_age=0, s_maxage=60),
                "Vary": "Accept-Language",
            },
        )

    def boom(request: Request) -> Response:
        # The success path's lifetime, set before the failure — the guide's situation.
        return JSONResponse(
            {"error": "db down"}, status_code=500, headers={"Cache-Control": "public, max-age=60"}
        )

    def missing(request: Request) -> Response:
        raise HTTPException(404)

    def gone(request: Request) -> Response:
        return JSONResponse(
            {}, status_code=410, headers={"Cache-Control": cc(public=True, max_age=30)}
        )

    def plain(request: Request) -> Response:
        return JSONResponse({"ok": True})

    app = Starlette(
        routes=[
            Route("/profile", profile),
            Route("/catalogue", catalogue),
            Route("/boom", boom),
            Route("/missing", missing),
            Route("/gone", gone),
            Route("/plain", plain),
        ]
    )
    return TestClient(policy(app, exercise.final_headers))


def test_max_age_zero_is_emitted(exercise: ModuleType) -> None:
    """max_age=0 means "revalidate every time": it must appear as max-age=0 (the guide's
    `if (maxAge)` drops it, because 0 is falsy). Test ages with `is not None`."""
    assert exercise.cache_control(private=True, max_age=0) == "private, max-age=0"
    assert (
        exercise.cache_control(public=True, max_age=0, s_maxage=60)
        == "public, max-age=0, s-maxage=60"
    )


def test_nothing_is_public_unless_asked(exercise: ModuleType) -> None:
    """cache_control(max_age=60) is "max-age=60": `public` only when the caller says so (the guide
    defaults to public, so personalised responses are stored by shared caches)."""
    assert exercise.cache_control(max_age=60) == "max-age=60"
    assert exercise.cache_control(private=True, max_age=60) == "private, max-age=60"
    assert exercise.cache_control(no_store=True) == "no-store"


@pytest.mark.parametrize(
    "options",
    [
        {"private": True, "s_maxage": 60},
        {"private": True, "max_age": 0, "s_maxage": 0},
        {"public": True, "private": True, "max_age": 1},
        {"no_store": True, "max_age": 60},
        {"no_store": True, "public": True},
        {},
    ],
    ids=[
        "private+s-maxage",
        "private+s-maxage=0",
        "public+private",
        "no-store+age",
        "no-store+public",
        "nothing",
    ],
)
def test_contradictions_are_value_errors(exercise: ModuleType, options: dict[str, Any]) -> None:
    """Contradicting directives raise ValueError: private + s_maxage (a shared-cache lifetime on a
    response no shared cache may store), public + private, no_store with public or an age, or no
    directive at all."""
    with pytest.raises(ValueError):  # noqa: PT011 - any message
        exercise.cache_control(**options)


@pytest.mark.parametrize(
    "age",
    [-1, 31_536_001, 1.5, "60", True, float("nan")],
    ids=["negative", "over-a-year", "float", "str", "bool", "nan"],
)
def test_hostile_ages_are_value_errors(exercise: ModuleType, age: object) -> None:
    """An age must be an int from 0 to 31,536,000: negative, too large, float, str — and True, which is
    an int to isinstance() — raise ValueError."""
    with pytest.raises(ValueError):  # noqa: PT011 - any message
        exercise.cache_control(private=True, max_age=age)
    with pytest.raises(ValueError):  # noqa: PT011 - any message
        exercise.cache_control(public=True, s_maxage=age)


def test_authorised_request_gets_private_no_store(client: TestClient) -> None:
    """A response to a request with Authorization leaves as `private, no-store` even if its handler
    declared `max-age=60`: a shared cache would otherwise hand Alice's page to Bob."""
    response = client.get("/profile", headers={"Authorization": "Bearer alice"})
    assert response.headers["cache-control"] == "private, no-store"


def test_authorised_request_marked_public_stays_public(client: TestClient) -> None:
    """`public` is the handler's explicit statement that an authorised response may be shared: keep it."""
    response = client.get("/catalogue", headers={"Authorization": "Bearer alice"})
    assert response.headers["cache-control"] == "public, max-age=0, s-maxage=60"


def test_errors_are_no_store(client: TestClient) -> None:
    """Decide after the handler: a 500 (and a routing 404) is `no-store` whatever was set before —
    the guide sets the header first, so errors are cached for the full lifetime. A 410 whose handler
    declared a lifetime keeps it (negative caching on purpose)."""
    assert client.get("/boom").headers["cache-control"] == "no-store"
    assert client.get("/missing").headers["cache-control"] == "no-store"
    assert client.get("/gone").headers["cache-control"] == "public, max-age=30"


def test_vary_is_merged_not_overwritten(client: TestClient) -> None:
    """Vary keeps the handler's names and adds Authorization and Accept-Encoding (the guide sends no
    Vary, so a cache keyed on the URL serves one variant to everyone)."""
    assert (
        client.get("/catalogue").headers["vary"]
        == "Accept-Language, Authorization, Accept-Encoding"
    )
    assert client.get("/plain").headers["vary"] == "Authorization, Accept-Encoding"


def test_undeclared_success_is_no_cache(client: TestClient) -> None:
    """A success whose handler declared nothing leaves as `no-cache` (store, but revalidate)."""
    assert client.get("/plain").headers["cache-control"] == "no-cache"
