"""Grading for exercise 07.1: security headers on every response (exercises/07_security/security_headers.py).
Graded on the headers of real responses from an app wrapped in your middleware: a 200, the router's
404/405, chapter 01's 413, a 422, a crashing handler's 500, over HTTPS and over plain HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from types import ModuleType

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, StreamingResponse
from fastapi.testclient import TestClient
from pydantic import BaseModel
from starlette.types import Receive, Scope, Send

from reference.api_design.gate import gated_route
from reference.security.headers import missing_headers

TWO_MIB = b'{"name": "' + b"x" * (2 * 1024 * 1024) + b'"}'


class Item(BaseModel):
    name: str


async def _anyone(_request: Request) -> None:
    """No authentication in this app: the grading is about the responses."""


def _app() -> FastAPI:
    """Chapter 01's gate (413 before reading), no problem handlers: a crash is Starlette's own 500."""
    started: list[bool] = []

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        started.append(True)
        yield

    app = FastAPI(lifespan=lifespan)
    app.state.started = started
    app.router.route_class = gated_route(_anyone)

    @app.get("/items/{item_id}")
    async def read(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    @app.post("/items", status_code=201)
    async def create(item: Item) -> dict[str, str]:
        return {"name": item.name}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("the handler crashed")

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        return StreamingResponse(iter([b"a", b"b"]), media_type="text/plain")

    @app.get("/banner")
    async def banner() -> PlainTextResponse:
        return PlainTextResponse(
            "hi", headers={"Server": "uvicorn/0.54", "X-Powered-By": "Express"}
        )

    return app


@pytest.fixture
def https(exercise: ModuleType) -> Iterator[TestClient]:
    with TestClient(
        exercise.security_headers(_app()),
        base_url="https://testserver",
        raise_server_exceptions=False,
    ) as client:
        yield client


def _problems(response: httpx.Response, https: bool = True) -> list[str]:
    return missing_headers(response.headers, https=https)


def test_a_normal_response_has_every_header(https: TestClient) -> None:
    """A 200 over HTTPS must carry every SECURITY_HEADERS value (frame-ancestors 'none', nosniff …)
    and HSTS. The list names what is missing or differs from the OWASP value."""
    response = https.get("/items/1")
    assert response.status_code == 200
    assert _problems(response) == []


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("GET", "/nowhere", None, 404),
        ("DELETE", "/items/1", None, 405),
        ("POST", "/items", TWO_MIB, 413),
        ("POST", "/items", b'{"name": 3}', 422),
    ],
    ids=["404", "405", "413", "422"],
)
def test_error_responses_have_every_header(
    https: TestClient, method: str, path: str, body: bytes | None, status: int
) -> None:
    """Error responses need the headers as much as successes: an error page is a page too. Add
    them to whatever http.response.start goes out, not only to 2xx."""
    headers = {"content-type": "application/json"} if body else {}
    response = https.request(method, path, content=body, headers=headers)
    assert response.status_code == status
    assert _problems(response) == []


def test_a_crashing_handler_500_has_every_header(https: TestClient) -> None:
    """Starlette writes this 500 from ServerErrorMiddleware, outside any middleware added with
    app.add_middleware / @app.middleware. Wrap the whole app and change the message on its way out
    (a call_next-style middleware never sees this response)."""
    response = https.get("/boom")
    assert response.status_code == 500
    assert _problems(response) == []


async def _dies(scope: Scope, receive: Receive, send: Send) -> None:
    raise RuntimeError("died before answering")


def test_an_app_that_dies_before_answering_still_gets_a_hardened_500(exercise: ModuleType) -> None:
    """If the app raises before sending http.response.start, answer the 500 yourself, with the
    headers — otherwise the server writes a bare one."""
    client = TestClient(
        exercise.security_headers(_dies),
        base_url="https://testserver",
        raise_server_exceptions=False,
    )
    response = client.get("/")
    assert response.status_code == 500
    assert _problems(response) == []


def test_the_error_still_reaches_the_server(exercise: ModuleType) -> None:
    """After answering the 500, re-raise: the server must still log the exception."""
    client = TestClient(exercise.security_headers(_dies))
    with pytest.raises(RuntimeError, match="died before answering"):
        client.get("/")


def test_no_hsts_over_plain_http(exercise: ModuleType) -> None:
    """Strict-Transport-Security only over HTTPS (scope["scheme"] == "https"): RFC 6797 §7.2 says
    a host MUST NOT send it over plain HTTP. Every other header still goes out."""
    client = TestClient(exercise.security_headers(_app()), base_url="http://testserver")
    response = client.get("/items/1")
    assert "strict-transport-security" not in response.headers
    assert _problems(response, https=False) == []


def test_fingerprinting_headers_are_removed(https: TestClient) -> None:
    """Server and X-Powered-By (REMOVED_HEADERS) tell an attacker what to aim at: drop them."""
    response = https.get("/banner")
    assert "server" not in response.headers
    assert "x-powered-by" not in response.headers
    assert _problems(response) == []


def test_a_streamed_response_is_hardened_and_complete(https: TestClient) -> None:
    """A streamed body arrives in several messages: harden the start, pass every body message on."""
    response = https.get("/stream")
    assert response.text == "ab"
    assert _problems(response) == []


def test_lifespan_passes_through(exercise: ModuleType) -> None:
    """Only http scopes have a scheme and headers; lifespan (startup/shutdown) must reach the app."""
    app = _app()
    with TestClient(exercise.security_headers(app)) as client:
        client.get("/items/1")
    assert app.state.started == [True]
