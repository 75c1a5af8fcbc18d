"""A small pytest plugin that records each grading test's outcome as one JSON line.

Loaded by the harness with ``-p course.harness.report_plugin``; it writes to the file named by
``$COURSE_REPORT_FILE`` and does nothing without it. Lines are appended and flushed as tests finish, so a
run killed for taking too long still tells which tests passed and which one was running. Records:

- ``{"event": "collected", "tests": [{"nodeid", "name", "doc"}…]}``
- ``{"event": "collect_error", "message"}``
- ``{"event": "start", "nodeid"}``
- ``{"event": "result", "nodeid", "outcome", "phase", "exc_type", "exc_mro", "message"}``
"""

from __future__ import annotations

import inspect
import json
import os
from collections.abc import Generator
from typing import Any

import pytest

from course.harness.loader import REPORT_VARIABLE

_STATE: dict[str, dict[str, Any]] = {}


def _write(record: dict[str, Any]) -> None:
    path = os.environ.get(REPORT_VARIABLE)
    if not path:
        return
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps(record) + "\n")
        out.flush()


def docstring(item: pytest.Item) -> str:
    """The test's docstring, cleaned; empty when it has none."""
    function = getattr(item, "function", None)
    return inspect.getdoc(function) or "" if function is not None else ""


def _message(excinfo: pytest.ExceptionInfo[BaseException]) -> str:
    value = excinfo.value
    text = getattr(value, "msg", None) if isinstance(value, pytest.fail.Exception) else None
    text = text or str(value)
    return text.strip() or excinfo.typename


def pytest_collection_finish(session: pytest.Session) -> None:
    _write(
        {
            "event": "collected",
            "tests": [
                {"nodeid": item.nodeid, "name": item.name, "doc": docstring(item)}
                for item in session.items
            ],
        }
    )


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.failed:
        _write({"event": "collect_error", "message": str(report.longreprtext)[-4000:]})


def pytest_runtest_logstart(nodeid: str, location: object) -> None:
    _write({"event": "start", "nodeid": nodeid})


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    state = _STATE.setdefault(
        item.nodeid,
        {"outcome": "passed", "phase": "call", "exc_type": None, "exc_mro": [], "message": ""},
    )
    if report.skipped and state["outcome"] == "passed":
        state.update(outcome="skipped", phase=report.when)
        longrepr = report.longrepr
        state["message"] = str(longrepr[2]) if isinstance(longrepr, tuple) else str(longrepr)
    elif report.failed and state["outcome"] in ("passed", "skipped"):
        state.update(outcome="failed" if report.when == "call" else "error", phase=report.when)
        if call.excinfo is not None:
            state["exc_type"] = call.excinfo.typename
            state["exc_mro"] = [cls.__name__ for cls in call.excinfo.type.__mro__]
            state["message"] = _message(call.excinfo)[:4000]
    if report.when == "teardown":
        _write({"event": "result", "nodeid": item.nodeid, **_STATE.pop(item.nodeid)})
