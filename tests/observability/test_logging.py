"""The structlog logger: JSON lines, UTC timestamps, audit events kept at any level, exceptions with
their code and cause, ids bound per context, no global configuration (guide-defects.md §8.1; the
guide's logger: test_logger_guide.py)."""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from typing import Any

import pytest
import structlog

from reference.config import REPO_ROOT
from reference.observability.logging import audit, bound, current, make_logger


def _lines(out: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_every_line_is_json_with_the_common_fields() -> None:
    out = io.StringIO()
    log = make_logger("users", level="info", stream=out)
    log.info("user.created", user_id="u-1")
    log.warning("slow query", ms=812.5)
    first, second = _lines(out)
    assert list(first)[:4] == ["timestamp", "level", "service", "event"]
    assert first["level"] == "info"
    assert second["level"] == "warning"
    assert first["service"] == "users"
    assert first["user_id"] == "u-1"
    stamp = datetime.fromisoformat(first["timestamp"])
    assert stamp.utcoffset() == UTC.utcoffset(None)
    assert abs((datetime.now(UTC) - stamp).total_seconds()) < 60


@pytest.mark.parametrize("level", ["warn", "WARNING", "error", "critical"])
def test_audit_events_are_kept_at_any_level(level: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_LEVEL", level)
    out = io.StringIO()
    log = make_logger("admin", stream=out)
    log.info("routine")
    log.debug("noise")
    audit(log, "user.deleted", actor="admin-1", resource="users/42", reason="gdpr request")
    (line,) = _lines(out)
    assert line["event"] == "user.deleted"
    assert line["audit"] is True
    assert (line["actor"], line["resource"], line["reason"]) == (
        "admin-1",
        "users/42",
        "gdpr request",
    )


def test_levels_filter_everything_else() -> None:
    out = io.StringIO()
    log = make_logger("svc", level="warn", stream=out)
    log.debug("d")
    log.info("i")
    log.info("not audit", audit="yes")  # only audit=True is an audit event
    log.warning("w")
    log.error("e")
    assert [line["event"] for line in _lines(out)] == ["w", "e"]


def test_unknown_level_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown log level 'verbose'"):
        make_logger("svc", level="verbose")


class PaymentError(Exception):
    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


def test_exceptions_keep_type_message_code_and_cause_chain() -> None:
    out = io.StringIO()
    log = make_logger("payments", stream=out)
    try:
        try:
            try:
                raise OSError(111, "Connection refused")
            except OSError:
                raise ConnectionRefusedError("payments-db:5432 refused the connection") from None
        except ConnectionRefusedError as cause:
            raise PaymentError("charge failed", code="PAYMENT_BACKEND_DOWN") from cause
    except PaymentError:
        log.exception("checkout failed", order_id="o-9")
    (line,) = _lines(out)
    error = line["exception"]
    assert error["type"] == f"{__name__}.PaymentError"
    assert error["message"] == "charge failed"
    assert error["code"] == "PAYMENT_BACKEND_DOWN"
    assert "test_exceptions_keep_type_message_code_and_cause_chain" in error["stack"]
    assert error["cause"]["type"] == "ConnectionRefusedError"
    assert error["cause"]["message"] == "payments-db:5432 refused the connection"
    assert "cause" not in error["cause"]  # `from None` suppressed the OSError context
    assert line["level"] == "error"


def test_implicit_context_and_cycles_are_followed_but_bounded() -> None:
    out = io.StringIO()
    log = make_logger("svc", stream=out)
    first, second = ValueError("first"), KeyError("second")
    first.__context__, second.__context__ = second, first  # a cycle
    log.error("cyclic", exc_info=first)
    chain: BaseException = ValueError("top")
    node = chain
    for n in range(50):
        node.__cause__ = ValueError(f"cause {n}")
        node = node.__cause__
    log.error("long chain", exc_info=chain)
    cyclic, deep = _lines(out)
    assert cyclic["exception"]["cause"]["type"] == "KeyError"
    assert "cause" not in cyclic["exception"]["cause"]
    depth, link = 0, deep["exception"]
    while "cause" in link:
        link, depth = link["cause"], depth + 1
    assert depth == 5
    assert link["type"] == "[TRUNCATED]"


def test_bound_ids_reach_every_line_and_are_unbound_after() -> None:
    out = io.StringIO()
    log = make_logger("orders", stream=out)
    with bound(request_id="req-1", correlation_id="corr-1"):
        log.info("inside")
        assert current("request_id") == "req-1"
    log.info("outside")
    inside, outside = _lines(out)
    assert (inside["request_id"], inside["correlation_id"]) == ("req-1", "corr-1")
    assert "request_id" not in outside
    assert current("request_id") is None


def test_concurrent_tasks_keep_their_own_ids() -> None:
    out = io.StringIO()
    log = make_logger("orders", stream=out)

    async def handle(request_id: str) -> None:
        with bound(request_id=request_id):
            for step in range(3):
                log.info("step", n=step)
                await asyncio.sleep(0)  # interleave the tasks

    async def main() -> None:
        await asyncio.gather(*(handle(f"req-{i}") for i in range(5)))

    asyncio.run(main())
    lines = _lines(out)
    assert len(lines) == 15
    for i in range(5):
        assert [line["n"] for line in lines if line["request_id"] == f"req-{i}"] == [0, 1, 2]


def test_two_services_in_one_process_keep_their_own_settings() -> None:
    before = structlog.get_config()
    a_out, b_out = io.StringIO(), io.StringIO()
    users = make_logger("users", level="debug", stream=a_out)
    orders = make_logger("orders", level="error", stream=b_out)
    users.debug("u")
    orders.info("o")
    assert structlog.get_config() == before  # nothing global was configured
    assert _lines(a_out)[0]["service"] == "users"
    assert b_out.getvalue() == ""


def test_the_secret_appears_nowhere_in_a_runs_output() -> None:
    """A whole process — stdout and stderr — with a password in a body, a Bearer header, a refresh
    token in a list and a credential inside an exception's message."""
    script = textwrap.dedent(
        """
        from reference.observability.logging import audit, make_logger
        log = make_logger("auth", level="debug")
        SECRET = "hunter2-" + "0xDEADBEEF"
        log.info("login", body={"email": "a@example.com", "Password": SECRET})
        log.info("call", headers={"Authorization": "Bearer " + SECRET})
        log.debug("refresh", sessions=[{"refresh_token": SECRET}])
        audit(log, "password.changed", actor="u-1", resource="users/u-1", old_password=SECRET)
        try:
            raise PermissionError("upstream refused Bearer " + SECRET)
        except PermissionError:
            log.exception("upstream failed")
        print("done")
        """
    )
    run = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    output = run.stdout + run.stderr
    assert output.count("[REDACTED]") == 5
    assert "hunter2" not in output
    assert "DEADBEEF" not in output
    assert output.rstrip().endswith("done")
