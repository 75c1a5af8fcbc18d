"""Grading for exercise 06.4: Cache-Control headers that cannot lie (exercises/06_caching/cache_control.py).

The learner's ``final_headers`` runs in a small ASGI middleware *after* a Starlette app's handlers,
exactly where a real policy middleware would; the handlers declare their headers with the learner's
``cache_control``. Responses are read through Starlette's test client.
"""

from __future__ import annotations

import itertools
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

    def forbidden(request: Request) -> Response:
        # A 403 carrying the success path's lifetime: only 404 and 410 may keep theirs.
        return JSONResponse(
            {}, status_code=403, headers={"Cache-Control": cc(public=True, max_age=60)}
        )

    def personal(request: Request) -> Response:
        # Names spelled as a client sends them: lower case, no spaces.
        return JSONResponse(
            {},
            headers={
                "Cache-Control": cc(private=True, max_age=60),
                "Vary": "authorization,accept-encoding",
            },
        )

    def shouted(request: Request) -> Response:
        # Directive names are case-insensitive (RFC 9111 §5.2).
        return JSONResponse({}, headers={"Cache-Control": "PUBLIC, max-age=60", "Vary": "*"})

    app = Starlette(
        routes=[
            Route("/profile", profile),
            Route("/catalogue", catalogue),
            Route("/boom", boom),
            Route("/missing", missing),
            Route("/gone", gone),
            Route("/plain", plain),
            Route("/forbidden", forbidden),
            Route("/personal", personal),
            Route("/shouted", shouted),
        ]
    )
    return TestClient(policy(app, exercise.final_headers))


def header(value: object) -> str:
    """``value`` if it is a plain ``str``: an object equal to everything is not a header value."""
    assert type(value) is str, f"cache_control returned a {type(value).__name__}, not a str"
    return value


def test_max_age_zero_is_emitted(exercise: ModuleType) -> None:
    """max_age=0 means "revalidate every time": it must appear as max-age=0 (the guide's
    `if (maxAge)` drops it, because 0 is falsy). Test ages with `is not None`."""
    assert header(exercise.cache_control(private=True, max_age=0)) == "private, max-age=0"
    assert (
        header(exercise.cache_control(public=True, max_age=0, s_maxage=60))
        == "public, max-age=0, s-maxage=60"
    )


def test_directive_order_and_the_one_year_bound(exercise: ModuleType) -> None:
    """Directives come out as public/private, no-store, no-cache, max-age, s-maxage; one year
    (31,536,000 s) is still a valid age, and no-store goes with private or no-cache."""
    cc = exercise.cache_control
    assert header(cc(private=True, no_cache=True, max_age=0)) == "private, no-cache, max-age=0"
    assert header(cc(private=True, no_store=True, no_cache=True)) == "private, no-store, no-cache"
    assert (
        header(cc(public=True, max_age=31_536_000, s_maxage=31_536_000))
        == "public, max-age=31536000, s-maxage=31536000"
    )


def test_nothing_is_public_unless_asked(exercise: ModuleType) -> None:
    """cache_control(max_age=60) is "max-age=60": `public` only when the caller says so (the guide
    defaults to public, so personalised responses are stored by shared caches)."""
    assert header(exercise.cache_control(max_age=60)) == "max-age=60"
    assert header(exercise.cache_control(private=True, max_age=60)) == "private, max-age=60"
    assert header(exercise.cache_control(no_store=True)) == "no-store"


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


def test_authorised_private_response_is_not_stored_either(client: TestClient) -> None:
    """A handler's `private, max-age=60` answering an authorised request still leaves as
    `private, no-store`: only `public` keeps what the handler declared (the browser on a shared
    machine is a cache too)."""
    response = client.get("/personal", headers={"Authorization": "Bearer alice"})
    assert response.headers["cache-control"] == "private, no-store"


def test_authorised_request_marked_public_stays_public(client: TestClient) -> None:
    """`public` is the handler's explicit statement that an authorised response may be shared: keep it."""
    response = client.get("/catalogue", headers={"Authorization": "Bearer alice"})
    assert response.headers["cache-control"] == "public, max-age=0, s-maxage=60"
    shouted = client.get("/shouted", headers={"Authorization": "Bearer alice"})
    assert shouted.headers["cache-control"] == "PUBLIC, max-age=60", (
        "directive names are case-insensitive: PUBLIC is public"
    )


def test_errors_are_no_store(client: TestClient) -> None:
    """Decide after the handler: a 500 (and a routing 404) is `no-store` whatever was set before —
    the guide sets the header first, so errors are cached for the full lifetime. A 410 whose handler
    declared a lifetime keeps it (negative caching on purpose)."""
    assert client.get("/boom").headers["cache-control"] == "no-store"
    assert client.get("/missing").headers["cache-control"] == "no-store"
    assert client.get("/forbidden").headers["cache-control"] == "no-store", (
        "only a 404 or 410 keeps the handler's lifetime; a 403 is no-store"
    )
    assert client.get("/gone").headers["cache-control"] == "public, max-age=30"


def test_vary_is_merged_not_overwritten(client: TestClient) -> None:
    """Vary keeps the handler's names and adds Authorization and Accept-Encoding (the guide sends no
    Vary, so a cache keyed on the URL serves one variant to everyone)."""
    assert (
        client.get("/catalogue").headers["vary"]
        == "Accept-Language, Authorization, Accept-Encoding"
    )
    assert client.get("/plain").headers["vary"] == "Authorization, Accept-Encoding"


def test_vary_names_are_not_duplicated(client: TestClient) -> None:
    """Header names are case-insensitive: a handler's `authorization,accept-encoding` already
    names both, so Vary is `authorization, accept-encoding` — no second Authorization. A `*`
    (varies on everything) stays `*` alone."""
    assert client.get("/personal").headers["vary"] == "authorization, accept-encoding"
    assert client.get("/shouted").headers["vary"] == "*"


def test_undeclared_success_is_no_cache(client: TestClient) -> None:
    """A success whose handler declared nothing leaves as `no-cache` (store, but revalidate)."""
    assert client.get("/plain").headers["cache-control"] == "no-cache"


AGES = [None, 0, 7, 31_536_000]


def expected_cache_control(options: dict[str, Any]) -> str | None:
    """The contract, spelled out (None: ValueError)."""
    public, private, no_store, no_cache, max_age, s_maxage = (
        options[name]
        for name in ("public", "private", "no_store", "no_cache", "max_age", "s_maxage")
    )
    ages = max_age is not None or s_maxage is not None
    if (
        (public and private)
        or (private and s_maxage is not None)
        or (no_store and (public or ages))
    ):
        return None
    flags = [
        ("public", public),
        ("private", private),
        ("no-store", no_store),
        ("no-cache", no_cache),
    ]
    parts = [name for name, on in flags if on]
    parts += [
        f"{name}={age}"
        for name, age in (("max-age", max_age), ("s-maxage", s_maxage))
        if age is not None
    ]
    return ", ".join(parts) or None


def test_every_combination_follows_the_contract(exercise: ModuleType) -> None:
    """All 256 combinations of the four flags and ages None/0/7/one year: the header in order, or
    ValueError exactly for the contradictions — not a table of the cases the other tests try."""
    wrong = []
    for flags in itertools.product([False, True], repeat=4):
        for max_age, s_maxage in itertools.product(AGES, AGES):
            options: dict[str, Any] = dict(
                zip(("public", "private", "no_store", "no_cache"), flags, strict=True)
            )
            options |= {"max_age": max_age, "s_maxage": s_maxage}
            want = expected_cache_control(options)
            try:
                got: object = header(exercise.cache_control(**options))
            except ValueError:
                got = None
            if got != want:
                wrong.append(f"cache_control(**{options}) gave {got!r}, expected {want!r}")
    assert not wrong, f"{len(wrong)} wrong, e.g. " + "; ".join(wrong[:3])


def test_final_headers_across_statuses_and_requests(exercise: ModuleType) -> None:
    """final_headers over statuses 200/204/301/400/401/404/410/500/503, with and without
    Authorization, for several declared headers and Vary values: the contract, case by case."""
    declared_values = [None, "max-age=60", "public, max-age=60", "private, max-age=5", "no-store"]
    vary_values = {
        None: "Authorization, Accept-Encoding",
        "Accept-Language": "Accept-Language, Authorization, Accept-Encoding",
        "Accept-Encoding": "Accept-Encoding, Authorization",
        "*": "*",
    }
    wrong = []
    for status in (200, 204, 301, 400, 401, 404, 410, 500, 503):
        for authorized in (False, True):
            for declared in declared_values:
                public = declared is not None and "public" in declared
                if status >= 400:
                    cc = declared if status in (404, 410) and declared else "no-store"
                elif authorized and not public:
                    cc = "private, no-store"
                else:
                    cc = declared or "no-cache"
                for vary, want_vary in vary_values.items():
                    want = {"Cache-Control": cc, "Vary": want_vary}
                    got = exercise.final_headers(status, authorized, declared, vary)
                    if got != want:
                        wrong.append(
                            f"final_headers({status}, {authorized}, {declared!r}, {vary!r})"
                        )
    assert not wrong, f"{len(wrong)} wrong, e.g. " + "; ".join(wrong[:3])
