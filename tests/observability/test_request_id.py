"""The request id middleware: one id per request, equal to the response header and present in every
line the request logs; forged ids replaced, never echoed; the id followed into a second service
(guide-defects.md §8.1; the guide's logger has none: test_logger_guide.py)."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient
from structlog.typing import FilteringBoundLogger

from reference.observability.logging import current, make_logger
from reference.observability.request_id import RequestIdMiddleware, outgoing_headers


def _lines(out: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def _service(name: str, out: io.StringIO, downstream: TestClient | None = None) -> Starlette:
    log: FilteringBoundLogger = make_logger(name, stream=out)

    def helper() -> None:
        log.info("helper ran")  # code that never saw the request still logs its id

    async def show(request: Request) -> JSONResponse:
        log.info("loading user", user_id=request.path_params["user_id"])
        helper()
        body: dict[str, Any] = {"service": name}
        if downstream is not None:
            body["downstream"] = downstream.get(
                f"/users/{request.path_params['user_id']}", headers=outgoing_headers()
            ).json()
        return JSONResponse(body)

    async def crash(request: Request) -> JSONResponse:
        raise RuntimeError("boom")

    app = Starlette(routes=[Route("/users/{user_id}", show), Route("/crash", crash)])
    app.add_middleware(RequestIdMiddleware, logger=log)
    return app


@pytest.fixture
def users() -> Iterator[tuple[TestClient, io.StringIO]]:
    out = io.StringIO()
    with TestClient(_service("users", out), raise_server_exceptions=False) as client:
        yield client, out


def test_generated_id_is_the_response_header_and_in_every_line(
    users: tuple[TestClient, io.StringIO],
) -> None:
    client, out = users
    response = client.get("/users/7")
    request_id = response.headers["X-Request-ID"]
    assert uuid.UUID(request_id).version == 4
    lines = _lines(out)
    assert [line["event"] for line in lines] == ["loading user", "helper ran", "http.request"]
    assert {line["request_id"] for line in lines} == {request_id}
    assert {line["correlation_id"] for line in lines} == {request_id}
    assert lines[-1] | {"duration_ms": 0} == lines[-1] | {
        "method": "GET",
        "path": "/users/7",
        "status": 200,
        "duration_ms": 0,
    }
    assert current("request_id") is None  # nothing leaks out of the request


def test_each_request_gets_its_own_id(users: tuple[TestClient, io.StringIO]) -> None:
    client, out = users
    ids = [client.get("/users/1").headers["X-Request-ID"] for _ in range(20)]
    assert len(set(ids)) == 20
    access = [line for line in _lines(out) if line["event"] == "http.request"]
    assert [line["request_id"] for line in access] == ids


@pytest.mark.parametrize(
    "incoming",
    ["3f2a1c9e-8b7d-4e6f-a5b4-c3d2e1f0a9b8", "req_01HF.abc:42", "a" * 128],
)
def test_well_formed_incoming_id_is_kept(
    users: tuple[TestClient, io.StringIO], incoming: str
) -> None:
    client, out = users
    response = client.get(
        "/users/1", headers={"X-Request-ID": incoming, "X-Correlation-ID": "order-77"}
    )
    assert response.headers["X-Request-ID"] == incoming
    assert {line["request_id"] for line in _lines(out)} == {incoming}
    assert {line["correlation_id"] for line in _lines(out)} == {"order-77"}


@pytest.mark.parametrize(
    "forged",
    [
        b'abc\r\n{"level":"info","event":"admin logged in"}',
        b"abc\r\nSet-Cookie: session=evil",
        b"abc\x00def",
        b"x" * 10_240,
        b"a" * 129,
        "r\u00e9quest".encode(),
        b"",
        b"has space",
    ],
)
def test_forged_incoming_id_is_replaced_and_never_echoed(
    users: tuple[TestClient, io.StringIO], forged: bytes
) -> None:
    client, out = users
    response = client.get("/users/1", headers=[("X-Request-ID", forged)])
    assert response.status_code == 200
    request_id = response.headers["X-Request-ID"]
    assert uuid.UUID(request_id).version == 4
    assert "set-cookie" not in response.headers
    lines = _lines(out)  # one JSON object per line: nothing forged a line of its own
    assert lines[0] == lines[0] | {"event": "request_id.replaced", "incoming_length": len(forged)}
    assert {line["request_id"] for line in lines} == {request_id}
    if forged:
        assert forged.decode("utf-8", "replace") not in out.getvalue()
        assert forged.decode("utf-8", "replace") not in json.dumps(lines)


def test_the_app_cannot_set_a_second_request_id_header() -> None:
    async def sneaky(request: Request) -> JSONResponse:
        return JSONResponse({}, headers={"X-Request-ID": "from-the-app"})

    app = Starlette(routes=[Route("/", sneaky)])
    app.add_middleware(RequestIdMiddleware)
    with TestClient(app) as client:
        response = client.get("/", headers={"X-Request-ID": "from-the-client"})
    assert response.headers.get_list("X-Request-ID") == ["from-the-client"]


def test_a_crash_is_logged_with_the_id_and_status_500(
    users: tuple[TestClient, io.StringIO],
) -> None:
    client, out = users
    response = client.get("/crash", headers={"X-Request-ID": "crash-1"})
    assert response.status_code == 500
    (access,) = [line for line in _lines(out) if line["event"] == "http.request"]
    assert (access["request_id"], access["status"]) == ("crash-1", 500)


def test_the_id_follows_the_request_into_a_second_service() -> None:
    users_out, orders_out = io.StringIO(), io.StringIO()
    with TestClient(_service("users", users_out)) as users_client:
        orders = _service("orders", orders_out, downstream=users_client)
        with TestClient(orders) as client:
            response = client.get("/users/3")
    assert response.json() == {"service": "orders", "downstream": {"service": "users"}}
    request_id = response.headers["X-Request-ID"]
    lines = _lines(orders_out) + _lines(users_out)
    assert {line["service"] for line in lines} == {"orders", "users"}
    assert {line["request_id"] for line in lines} == {request_id}
    assert len(lines) == 6
