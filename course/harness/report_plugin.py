"""A small pytest plugin that records each grading test's outcome as one line on the report channel.

Loaded by the harness with ``-p course.harness.report_plugin``. It connects to the runner's report
channel (:mod:`course.harness.report_channel`: an inherited descriptor and a token, handed over on
stdin) when pytest loads it, before any grading test is collected and before the learner's module is
imported; without a handshake it does nothing. Lines are written as tests finish, so a run killed for
taking too long still tells which tests passed and which one was running. Records:

- ``{"event": "collected", "tests": [{"nodeid", "name", "doc"}…]}``
- ``{"event": "collect_error", "message"}``
- ``{"event": "start", "nodeid"}``
- ``{"event": "result", "nodeid", "outcome", "phase", "exc_type", "exc_mro", "message"}``
- ``{"event": "tampered", "nodeid", "what": [...]}`` — pytest's machinery changed during a test
- ``{"event": "finished", "exitstatus"}``

Tamper check: once collection is over (the grading tests are imported, the learner's module is not)
the plugin takes a snapshot of the objects that decide a test's outcome — every hook implementation,
the registered plugins, ``Function.runtest`` and its relatives, the report and call-info classes, and
this plugin's own functions — and compares it after every test. A learner's module that replaced one
of them (``_pytest.python.Function.runtest = lambda self: None``) is reported; the runner scores the
run 0 and tells the instructor to review it.
"""

from __future__ import annotations

import fcntl
import inspect
import os
import secrets
import sys
from collections.abc import Generator
from typing import Any

import _pytest.fixtures
import _pytest.python
import _pytest.reports
import _pytest.runner
import pytest

from course.harness import report_channel

_STATE: dict[str, dict[str, Any]] = {}
_CHANNEL: list[tuple[int, str]] = []  # (descriptor, token) once connected
_BASELINE: dict[str, object] = {}
# The message of a sys.exit() during the learner's import, once one happened: pytest caches a
# module-scoped fixture's failure only for Exception, so the tests after the first see a bare
# AssertionError from pytest's fixture cache instead; they get this message too.
_EXIT_AT_IMPORT: list[str] = []


def connect(fd: int, token: str) -> None:
    """Report to ``fd`` with ``token``: the descriptor moves to a random high number, close-on-exec
    (so a subprocess the learner starts does not inherit it)."""
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 200 + secrets.randbelow(800))
    os.close(fd)
    _CHANNEL[:] = [(moved, token)]


def disconnect() -> None:
    for fd, _token in _CHANNEL:
        os.close(fd)
    _CHANNEL.clear()


def _write(record: dict[str, Any]) -> None:
    if not _CHANNEL:
        return
    fd, token = _CHANNEL[0]
    os.write(fd, report_channel.encode(token, record))


_handshake = report_channel.read_fd_handshake()
if _handshake is not None:
    connect(*_handshake)
del _handshake


def docstring(item: pytest.Item) -> str:
    """The test's docstring, cleaned; empty when it has none."""
    function = getattr(item, "function", None)
    return inspect.getdoc(function) or "" if function is not None else ""


def _message(excinfo: pytest.ExceptionInfo[BaseException]) -> str:
    value = excinfo.value
    if isinstance(value, SystemExit) and any(
        entry.name == "load_exercise" for entry in excinfo.traceback
    ):
        return f"your module called sys.exit() at import (exit code {value.code!r})"
    text = getattr(value, "msg", None) if isinstance(value, pytest.fail.Exception) else None
    text = text or str(value)
    return text.strip() or excinfo.typename


def machinery(config: pytest.Config) -> dict[str, object]:
    """The objects that decide a test's outcome, by name (compared by identity)."""
    snapshot: dict[str, object] = {}
    for owner in (
        _pytest.python.Function,
        pytest.Item,
        _pytest.reports.TestReport,
        _pytest.reports.BaseReport,
        _pytest.runner.CallInfo,
        _pytest.fixtures.FixtureDef,
        pytest.ExceptionInfo,
    ):
        for name, value in vars(owner).items():
            snapshot[f"{owner.__module__}.{owner.__qualname__}.{name}"] = value
    for module in (_pytest.runner, _pytest.python, sys.modules[__name__]):
        for name, value in vars(module).items():
            if callable(value):
                snapshot[f"{module.__name__}.{name}"] = value
    for name in dir(config.hook):
        caller = getattr(config.hook, name)
        if hasattr(caller, "get_hookimpls"):
            snapshot[f"hook {name}"] = tuple(impl.function for impl in caller.get_hookimpls())
    snapshot["plugins"] = frozenset(id(p) for p in config.pluginmanager.get_plugins())
    return snapshot


def changed_machinery(config: pytest.Config) -> list[str]:
    """Names whose object is not the one in the baseline (empty before the baseline exists)."""
    if not _BASELINE:
        return []
    now = machinery(config)
    changed = [
        name for name, value in _BASELINE.items() if name not in now or now[name] is not value
    ]
    changed += [name for name in now if name not in _BASELINE]
    # Tuples and frozensets are rebuilt on every snapshot: compare those by value.
    return [
        name
        for name in changed
        if not (
            isinstance(_BASELINE.get(name), tuple | frozenset)
            and _BASELINE.get(name) == now.get(name)
        )
    ]


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
    _BASELINE.clear()
    _BASELINE.update(machinery(session.config))


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
            if call.excinfo.typename == "SystemExit" and "at import" in state["message"]:
                _EXIT_AT_IMPORT[:] = [state["message"]]
            elif (
                _EXIT_AT_IMPORT and report.when == "setup" and state["exc_type"] == "AssertionError"
            ):
                state.update(
                    exc_type="SystemExit",
                    exc_mro=["SystemExit", "BaseException", "object"],
                    message=_EXIT_AT_IMPORT[0],
                )
    if report.when == "teardown":
        changed = changed_machinery(item.config)
        if changed:
            _write({"event": "tampered", "nodeid": item.nodeid, "what": changed[:20]})
        _write({"event": "result", "nodeid": item.nodeid, **_STATE.pop(item.nodeid)})


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    changed = changed_machinery(session.config)
    if changed:
        _write({"event": "tampered", "nodeid": "", "what": changed[:20]})
    _write({"event": "finished", "exitstatus": int(exitstatus)})
