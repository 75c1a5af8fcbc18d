"""The guide's Winston logger, live: each test passes by showing one defect (guide-defects.md §8.1).
The same properties pass on the fix in ``test_logging.py``, ``test_redaction.py`` and
``test_request_id.py``."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from guide.observability.logger import Log, create_logger

SECRET = "hunter2-s3cr3t"


@pytest.fixture
def guide(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Log, io.StringIO, Path]]:
    """The guide's logger in a scratch working directory (its files go to ``./logs``)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SERVICE_NAME", "users")
    monkeypatch.delenv("LOG_LEVEL", raising=False)
    console = io.StringIO()
    log = Log(create_logger(console=console))
    yield log, console, tmp_path
    log.close()


def _file(root: Path, stem: str) -> str:
    return (root / "logs" / f"{stem}-{date.today().isoformat()}.log").read_text()


def test_secrets_reach_console_and_files(guide: tuple[Log, io.StringIO, Path]) -> None:
    log, console, root = guide
    log.info(
        "login",
        {
            "user": {"email": "a@example.com", "password": SECRET},
            "headers": {"authorization": f"Bearer {SECRET}-jwt"},
            "refresh_token": f"{SECRET}-refresh",
        },
    )
    for output in (console.getvalue(), _file(root, "app")):
        assert output.count(SECRET) == 3
        assert "[REDACTED]" not in output


def test_console_is_coloured_text_not_json(guide: tuple[Log, io.StringIO, Path]) -> None:
    log, console, _ = guide
    log.info("user created", {"userId": "42"})
    line = console.getvalue().rstrip("\n")
    assert line.startswith("\x1b[32minfo\x1b[39m: user created {")
    with pytest.raises(json.JSONDecodeError):
        json.loads(line)


def test_the_json_lives_in_files_inside_the_container(guide: tuple[Log, io.StringIO, Path]) -> None:
    """What a container runtime collects (stdout) is the coloured text; the JSON a log pipeline could
    parse sits in ./logs in the container's own filesystem, gone when the container is replaced."""
    log, console, root = guide
    log.info("order placed", {"orderId": "o-1"})
    (line,) = _file(root, "app").splitlines()
    assert json.loads(line)["orderId"] == "o-1"
    assert [p.name for p in (root / "logs").iterdir()] == [f"app-{date.today().isoformat()}.log"]
    assert "orderId" in console.getvalue()
    assert not console.getvalue().startswith("{")


def test_audit_is_dropped_at_warn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, guide: tuple[Log, io.StringIO, Path]
) -> None:
    monkeypatch.setenv("LOG_LEVEL", "warn")
    console = io.StringIO()
    log = Log(create_logger(console=console, directory=tmp_path / "warn-logs"))
    log.audit("user.deleted", "admin-1", "users/42")
    log.error("disk full")
    log.close()
    assert "AUDIT" not in console.getvalue()
    assert "disk full" in console.getvalue()  # the logger works; only the audit trail is gone
    assert "AUDIT" not in "".join(p.read_text() for p in (tmp_path / "warn-logs").iterdir())


class PaymentError(Exception):
    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


def test_error_loses_code_and_cause(guide: tuple[Log, io.StringIO, Path]) -> None:
    log, _, root = guide
    try:
        try:
            raise ConnectionRefusedError("payments-db:5432 refused the connection")
        except ConnectionRefusedError as cause:
            raise PaymentError("charge failed", code="PAYMENT_BACKEND_DOWN") from cause
    except PaymentError as err:
        log.error("checkout failed", err, {"orderId": "o-9"})
    (line,) = _file(root, "error").splitlines()
    record = json.loads(line)
    assert record["error"] == "charge failed"
    assert "PAYMENT_BACKEND_DOWN" not in line  # the code the caller would branch on
    assert "payments-db" not in line  # why it failed
    assert "code" not in record
    assert "cause" not in record


def test_no_request_id(guide: tuple[Log, io.StringIO, Path]) -> None:
    """Two requests carrying X-Request-ID log lines that do not say which request they belong to."""
    log, console, _ = guide

    async def show(request: Request) -> PlainTextResponse:
        log.info("loading user", {"userId": request.path_params["user_id"]})
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/users/{user_id}", show)])
    with TestClient(app) as client:
        for request_id in ("req-aaa", "req-bbb"):
            response = client.get("/users/7", headers={"X-Request-ID": request_id})
            assert "x-request-id" not in response.headers
    lines = console.getvalue().splitlines()
    assert len(lines) == 2
    assert not any(rid in console.getvalue() for rid in ("req-aaa", "req-bbb"))
    strip = [line.split('"timestamp"')[0] for line in lines]
    assert strip[0] == strip[1]  # identical apart from the timestamp
