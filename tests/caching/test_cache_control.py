"""Cache-Control: every guide-defects.md §6.4 defect shown on the guide's middleware, fixed by the reference.

The guide port (``guide/caching/cache_headers.py``) and the reference (``reference/caching/
cache_control.py``) serve the same Starlette app through httpx's ASGI transport: a personalised
``/me``, a ``/boom`` that answers 500, a ``/missing`` 404 and a ``/doc`` with an ETag.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient
from starlette.types import ASGIApp

from guide.caching.cache_headers import SetCacheHeaders
from reference.caching.cache_control import (
    CachePolicy,
    cache_control,
    conditional_response,
    directives,
    final_cache_control,
    merge_vary,
)
from reference.caching.demo import build_app
from reference.caching.demo import main as demo_main


def me(request: Request) -> Response:
    return JSONResponse({"user": request.headers.get("authorization")})


def boom(request: Request) -> Response:
    return JSONResponse({"error": "database down"}, status_code=500)


def missing(request: Request) -> Response:
    raise HTTPException(404)


def gone(request: Request) -> Response:
    # A handler that knows an absence is worth a short negative-cache entry says so.
    return JSONResponse(
        {"error": "gone"},
        status_code=410,
        headers={"Cache-Control": cache_control(public=True, max_age=30)},
    )


def catalogue(request: Request) -> Response:
    return JSONResponse(
        {"items": []},
        headers={
            "Cache-Control": cache_control(public=True, max_age=0, s_maxage=60),
            "Vary": "Accept-Language",
        },
    )


def doc(request: Request) -> Response:
    return conditional_response(
        request, b'{"doc": 1}', version=7, cache=cache_control(private=True, max_age=0)
    )


ROUTES = [
    Route("/me", me),
    Route("/boom", boom),
    Route("/missing", missing),
    Route("/gone", gone),
    Route("/catalogue", catalogue),
    Route("/doc", doc),
]


def client(wrap: Callable[[ASGIApp], ASGIApp]) -> httpx.Client:
    return TestClient(wrap(Starlette(routes=ROUTES)))


def guide(**options: Any) -> httpx.Client:
    return client(lambda app: SetCacheHeaders(app, **options))


@pytest.fixture
def reference() -> httpx.Client:
    return client(CachePolicy)


# --- the guide's middleware: each defect, live ---------------------------------------------------


def test_guide_drops_max_age_zero() -> None:
    assert guide(max_age=0).get("/me").headers["cache-control"] == "public"


def test_guide_marks_personalised_responses_public() -> None:
    response = guide(max_age=60).get("/me", headers={"Authorization": "Bearer alice"})
    assert response.json() == {"user": "Bearer alice"}
    assert response.headers["cache-control"] == "public, max-age=60"


def test_guide_accepts_private_with_s_maxage() -> None:
    response = guide(private=True, s_max_age=60).get("/me")
    assert response.headers["cache-control"] == "private, s-maxage=60"


def test_guide_makes_errors_cacheable() -> None:
    cached = guide(max_age=60)
    assert cached.get("/boom").headers["cache-control"] == "public, max-age=60"
    assert cached.get("/missing").headers["cache-control"] == "public, max-age=60"


def test_guide_sets_no_vary_and_never_no_store() -> None:
    response = guide(max_age=60).get("/me", headers={"Authorization": "Bearer alice"})
    assert "vary" not in response.headers
    assert "no-store" not in response.headers["cache-control"]


# --- the reference: each defect fixed --------------------------------------------------------------


def test_builder_emits_max_age_zero() -> None:
    assert cache_control(private=True, max_age=0) == "private, max-age=0"
    assert cache_control(public=True, max_age=0, s_maxage=60) == "public, max-age=0, s-maxage=60"


def test_builder_is_never_public_by_default() -> None:
    assert cache_control(max_age=60) == "max-age=60"
    assert "public" not in directives(cache_control(private=True, max_age=60))


@pytest.mark.parametrize(
    "options",
    [
        {"private": True, "s_maxage": 60},
        {"public": True, "private": True, "max_age": 1},
        {"no_store": True, "max_age": 60},
        {"no_store": True, "public": True},
        {"no_store": True, "s_maxage": 0},
        {"max_age": -1},
        {"max_age": 366 * 24 * 3600},
        {"max_age": 1.5},
        {"max_age": "60"},
        {"max_age": True},
        {"public": "yes", "max_age": 1},
        {"stale_while_revalidate": -5, "max_age": 1},
        {},
    ],
    ids=lambda o: ",".join(f"{k}={v!r}" for k, v in o.items()) or "nothing",
)
def test_builder_refuses_contradictions_and_hostile_values(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        cache_control(**options)


def test_builder_message_names_the_contradiction() -> None:
    with pytest.raises(ValueError, match="s-maxage"):
        cache_control(private=True, max_age=0, s_maxage=60)


def test_authorised_response_is_private_no_store(reference: httpx.Client) -> None:
    response = reference.get("/me", headers={"Authorization": "Bearer alice"})
    assert response.headers["cache-control"] == "private, no-store"


def test_authorised_response_marked_public_stays_public(reference: httpx.Client) -> None:
    response = reference.get("/catalogue", headers={"Authorization": "Bearer alice"})
    assert response.headers["cache-control"] == "public, max-age=0, s-maxage=60"


def test_errors_are_no_store(reference: httpx.Client) -> None:
    assert reference.get("/boom").headers["cache-control"] == "no-store"
    # Routing's 404 never inherits a lifetime; a handler's explicit negative-cache entry does.
    assert reference.get("/missing").headers["cache-control"] == "no-store"
    assert reference.get("/gone").headers["cache-control"] == "public, max-age=30"
    assert reference.get("/gone", headers={"Authorization": "Bearer a"}).status_code == 410


def test_vary_is_merged_not_overwritten(reference: httpx.Client) -> None:
    assert (
        reference.get("/catalogue").headers["vary"]
        == "Accept-Language, Authorization, Accept-Encoding"
    )
    assert reference.get("/boom").headers["vary"] == "Authorization, Accept-Encoding"


def test_undeclared_success_is_revalidated_not_stored_blindly(reference: httpx.Client) -> None:
    assert reference.get("/me").headers["cache-control"] == "no-cache"


def test_etag_and_304_come_from_chapter_01(reference: httpx.Client) -> None:
    first = reference.get("/doc")
    assert first.status_code == 200
    assert first.headers["etag"].startswith('"7-')
    again = reference.get("/doc", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["cache-control"] == "private, max-age=0"
    assert (
        reference.get("/doc", headers={"If-None-Match": '"7-0000000000000000"'}).status_code == 200
    )


@pytest.mark.parametrize(
    ("existing", "extra", "expected"),
    [
        (None, ["Authorization"], "Authorization"),
        ("accept-encoding", ["Authorization", "Accept-Encoding"], "accept-encoding, Authorization"),
        ("*", ["Authorization"], "*"),
        (" , Origin ,", ["Origin"], "Origin"),
    ],
)
def test_merge_vary(existing: str | None, extra: list[str], expected: str) -> None:
    assert merge_vary(existing, extra) == expected


def test_final_policy_table() -> None:
    assert final_cache_control(200, False, "public, max-age=60") == "public, max-age=60"
    assert final_cache_control(200, True, "max-age=60") == "private, no-store"
    assert final_cache_control(200, True, "public, max-age=60") == "public, max-age=60"
    assert final_cache_control(503, False, "public, max-age=60") == "no-store"
    assert final_cache_control(404, False, None) == "no-store"
    assert final_cache_control(404, False, "public, max-age=30") == "public, max-age=30"


def test_demo_origin_obeys_the_policy() -> None:
    """reference.caching.demo (the launcher nginx's origin) answers with the reference policy."""
    demo = TestClient(build_app())
    assert demo.get("/catalogue").headers["cache-control"] == "public, max-age=0, s-maxage=60"
    assert demo.get("/me", headers={"Authorization": "Bearer a"}).headers["cache-control"] == (
        "private, no-store"
    )
    assert demo.get("/boom").headers["cache-control"] == "no-store"
    assert demo.get("/missing").status_code == 404


def test_demo_refuses_a_hostile_origin_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CACHE_ORIGIN_PORT", "99999")
    assert demo_main([]) == 2
