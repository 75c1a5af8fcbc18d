"""CORS: the guide's method list refuses the PATCH preflight and announces credentials to anyone; the
reference allow-list lets a listed origin PATCH, caches the preflight, and says nothing to others."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from guide.security.headers_cors import GUIDE_ORIGINS, secure_like_the_guide
from reference.security.cors import PREFLIGHT_MAX_AGE, check_origin
from reference.security.headers import harden

ORIGIN = "https://app.example.com"
EVIL = "https://evil.test"
CORS_NAMES = (
    "access-control-allow-origin",
    "access-control-allow-credentials",
    "access-control-allow-methods",
    "access-control-max-age",
    "access-control-expose-headers",
)


def _preflight(client: TestClient, origin: str, method: str = "PATCH") -> dict[str, str]:
    response = client.options(
        "/items/1",
        headers={
            "origin": origin,
            "access-control-request-method": method,
            "access-control-request-headers": "content-type",
        },
    )
    return {"status": str(response.status_code), **response.headers}


@pytest.fixture
def guide(items_app: Callable[..., FastAPI]) -> TestClient:
    return TestClient(secure_like_the_guide(items_app(gated=False)), base_url="https://testserver")


@pytest.fixture
def reference(items_app: Callable[..., FastAPI]) -> TestClient:
    return TestClient(harden(items_app(gated=True), [ORIGIN]), base_url="https://testserver")


def test_guide_allows_its_origin_to_put(guide: TestClient) -> None:
    headers = _preflight(guide, GUIDE_ORIGINS[0], "PUT")
    assert headers["status"] == "200"
    assert headers["access-control-allow-origin"] == GUIDE_ORIGINS[0]


def test_guide_refuses_its_own_origins_patch_preflight(guide: TestClient) -> None:
    """Defect 1: methods lack PATCH — a non-2xx preflight without PATCH in Allow-Methods; the
    browser never sends the PATCH."""
    headers = _preflight(guide, GUIDE_ORIGINS[0])
    assert headers["status"] == "400"
    assert "PATCH" not in headers["access-control-allow-methods"]


def test_guide_announces_credentials_to_any_origin(guide: TestClient) -> None:
    """Defect 5: an unlisted origin still hears Access-Control-Allow-Credentials: true."""
    response = guide.get("/items/1", headers={"origin": EVIL})
    assert "access-control-allow-origin" not in response.headers
    assert response.headers["access-control-allow-credentials"] == "true"


def test_listed_origin_may_patch_with_credentials_preflight_cached(reference: TestClient) -> None:
    headers = _preflight(reference, ORIGIN)
    assert headers["status"] == "200"
    assert headers["access-control-allow-origin"] == ORIGIN
    assert headers["access-control-allow-credentials"] == "true"
    assert "PATCH" in headers["access-control-allow-methods"]
    assert headers["access-control-max-age"] == str(PREFLIGHT_MAX_AGE)


def test_the_patch_itself_is_readable_by_the_listed_origin(reference: TestClient) -> None:
    response = reference.patch("/items/1", json={"name": "ink"}, headers={"origin": ORIGIN})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert "Origin" in response.headers["vary"]


@pytest.mark.parametrize(
    "origin", [EVIL, "null", "https://app.example.com.evil.test", ORIGIN + ":8443"]
)
def test_unlisted_origin_preflight_refused_without_any_cors_header(
    reference: TestClient, origin: str
) -> None:
    headers = _preflight(reference, origin)
    assert headers["status"] == "400"
    assert headers["content-type"] == "application/problem+json"
    assert [name for name in CORS_NAMES if name in headers] == []


def test_unlisted_origin_simple_request_gets_no_cors_header(reference: TestClient) -> None:
    """The server still answers (CORS is enforced by the browser); it grants nothing."""
    response = reference.get("/items/1", headers={"origin": EVIL})
    assert response.status_code == 200
    assert [name for name in CORS_NAMES if name in response.headers] == []
    assert "Origin" in response.headers["vary"]  # a cache must not reuse it for ORIGIN


@pytest.mark.parametrize(
    "origin",
    [
        "*",
        "https://app.example.com/",
        "https://app.example.com/path",
        "HTTPS://App.Example.com",
        " https://app.example.com",
        "ftp://app.example.com",
        "https://user@app.example.com",
        "https://*.example.com",
        "app.example.com",
        "",
    ],
)
def test_a_configured_origin_that_can_never_match_is_a_value_error(origin: str) -> None:
    with pytest.raises(ValueError, match="is not an origin"):
        check_origin(origin)


def test_a_well_formed_origin_is_kept() -> None:
    assert check_origin("http://localhost:5173") == "http://localhost:5173"
