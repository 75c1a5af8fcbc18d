"""Security headers on every response: the guide's helmet port loses them on a 500 and sends HSTS over
HTTP; the reference stack puts them on 200/404/405/413/415/422/500 and preflights, HSTS only over HTTPS."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from guide.security.headers_cors import HELMET_HEADERS, secure_like_the_guide
from reference.api_design.app import create_app
from reference.security.headers import (
    HSTS,
    SecurityHeadersMiddleware,
    harden,
    missing_headers,
    security_headers,
)

ORIGIN = "https://app.example.com"
TWO_MIB = b'{"name": "' + b"x" * (2 * 1024 * 1024) + b'"}'


@pytest.fixture
def guide(items_app: Callable[..., FastAPI]) -> TestClient:
    app = secure_like_the_guide(items_app(gated=False))
    return TestClient(app, base_url="https://testserver", raise_server_exceptions=False)


@pytest.fixture
def reference(items_app: Callable[..., FastAPI]) -> Iterator[TestClient]:
    app = harden(items_app(gated=True), [ORIGIN])
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as client:
        yield client


# --- the guide's port -------------------------------------------------------------------------


def test_guide_sets_helmet_headers_on_a_normal_response(guide: TestClient) -> None:
    response = guide.get("/items/1")
    assert response.status_code == 200
    assert {name: response.headers[name] for name in HELMET_HEADERS} == HELMET_HEADERS


def test_guide_500_has_no_security_headers(guide: TestClient) -> None:
    """Defect 3: the exception skips the middleware's header lines; the 500 is bare."""
    response = guide.get("/boom")
    assert response.status_code == 500
    assert "content-security-policy" not in response.headers
    assert "x-content-type-options" not in response.headers


def test_guide_sends_hsts_over_plain_http(items_app: Callable[..., FastAPI]) -> None:
    """Defect 4: helmet does not look at the scheme (RFC 6797 §7.2: MUST NOT over HTTP)."""
    client = TestClient(secure_like_the_guide(items_app(gated=False)), base_url="http://testserver")
    assert "strict-transport-security" in client.get("/items/1").headers


def test_guide_reads_and_parses_a_2_mib_body(guide: TestClient) -> None:
    """Defect 2: no body limit — 2 MiB is read, parsed and handed to the handler."""
    response = guide.post("/items", content=TWO_MIB, headers={"content-type": "application/json"})
    assert response.status_code == 201
    assert response.json()["name_length"] == 2 * 1024 * 1024


# --- the reference ---------------------------------------------------------------------------


def _json(body: bytes) -> dict[str, str]:
    return {"content-type": "application/json", "content-length": str(len(body))}


def _chunks() -> Iterator[bytes]:
    yield TWO_MIB[: 1024 * 1024]
    yield TWO_MIB[1024 * 1024 :]


CASES = {
    "200": ("GET", "/items/1", {}, None, 200),
    "404 unknown path": ("GET", "/nowhere", {}, None, 404),
    "405 wrong method": ("DELETE", "/items/1", {}, None, 405),
    "413 declared length": ("POST", "/items", _json(TWO_MIB), TWO_MIB, 413),
    "415 not json": ("POST", "/items", {"content-type": "text/plain"}, b"pen", 415),
    "422 invalid": ("PATCH", "/items/x", _json(b'{"name":"a"}'), b'{"name":"a"}', 422),
    "500 crash": ("GET", "/boom", {}, None, 500),
    "preflight": (
        "OPTIONS",
        "/items/1",
        {"origin": ORIGIN, "access-control-request-method": "PATCH"},
        None,
        200,
    ),
    "refused preflight": (
        "OPTIONS",
        "/items/1",
        {"origin": "https://evil.test", "access-control-request-method": "PATCH"},
        None,
        400,
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=list(CASES))
def test_every_response_carries_the_headers(
    reference: TestClient, case: tuple[str, str, dict[str, str], bytes | None, int]
) -> None:
    method, path, headers, body, status = case
    response = reference.request(method, path, headers=headers, content=body)
    assert response.status_code == status
    assert missing_headers(response.headers, https=True) == []


def test_a_streamed_2_mib_body_is_cut_off_with_413(reference: TestClient) -> None:
    """No Content-Length (chunked): chapter 01's gate stops reading at the cap."""
    response = reference.post(
        "/items", content=_chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert missing_headers(response.headers, https=True) == []


def test_no_hsts_over_plain_http(items_app: Callable[..., FastAPI]) -> None:
    client = TestClient(harden(items_app(gated=True)), base_url="http://testserver")
    response = client.get("/items/1")
    assert "strict-transport-security" not in response.headers
    assert missing_headers(response.headers, https=False) == []


def _leaky(_request: Request) -> Response:
    return PlainTextResponse(
        "docs",
        headers={
            "Content-Security-Policy": "default-src 'self'",
            "Server": "uvicorn/0.54",
            "X-Powered-By": "Express",
        },
    )


def test_handler_choice_kept_and_fingerprints_removed() -> None:
    app = SecurityHeadersMiddleware(Starlette(routes=[Route("/docs", _leaky)]))
    response = TestClient(app, base_url="https://testserver").get("/docs")
    assert response.headers["content-security-policy"] == "default-src 'self'"
    assert "server" not in response.headers
    assert "x-powered-by" not in response.headers
    assert response.headers["strict-transport-security"] == HSTS


async def _dies_before_answering(scope: Scope, receive: Receive, send: Send) -> None:
    raise RuntimeError("no Starlette around me")


def test_raw_app_crash_answered_500_with_headers_and_reraised() -> None:
    app = SecurityHeadersMiddleware(_dies_before_answering)
    response = TestClient(app, raise_server_exceptions=False).get("/")
    assert response.status_code == 500
    assert missing_headers(response.headers, https=False) == []
    with pytest.raises(RuntimeError, match="no Starlette"):
        TestClient(app).get("/")


def test_chapter_01_users_api_hardened_answers_413_with_headers() -> None:
    """The chapter-01 app's gate gives 413 for 2 MiB before authentication or the database."""
    api = create_app("postgresql://nobody@127.0.0.1:1/nothing", cors_origins=[ORIGIN])
    client = TestClient(SecurityHeadersMiddleware(api), base_url="https://testserver")
    response = client.post("/users", content=TWO_MIB, headers=_json(TWO_MIB))
    assert response.status_code == 413
    assert missing_headers(response.headers, https=True) == []


def test_missing_headers_names_what_is_wrong() -> None:
    good = security_headers("https")
    assert missing_headers(good, https=True) == []
    weakened = {**good, "X-Frame-Options": "SAMEORIGIN", "Server": "x"}
    assert missing_headers(weakened, https=True) == ["X-Frame-Options", "Server present"]
    assert "Strict-Transport-Security over plain HTTP" in missing_headers(good, https=False)


def test_500_from_starlettes_server_error_middleware_has_headers(
    items_app: Callable[..., FastAPI],
) -> None:
    """Without chapter 01's problem handlers the 500 comes from ServerErrorMiddleware — still covered."""
    client = TestClient(harden(items_app(gated=False)), raise_server_exceptions=False)
    response = client.get("/boom")
    assert response.status_code == 500
    assert missing_headers(response.headers, https=False) == []
