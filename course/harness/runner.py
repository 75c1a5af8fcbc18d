"""Run one exercise's grading tests against one exercises folder, in a subprocess of its own.

The subprocess gets ``COURSE_EXERCISES_ROOT`` (whose files to grade), runs in a new session so a time
limit can stop everything it started, and reports per-test outcomes through
:mod:`course.harness.report_plugin` over an authenticated channel (:mod:`course.harness.report_channel`):
a descriptor the runner opened and a token handed over on stdin, never through the environment. A
line on that channel without the token, a test the expected list does not name, or pytest's machinery
changed while a test ran (the plugin's tamper check) costs this run its points, and only this run's.

The expected tests can come from :func:`collect_expected` — a collection run with an empty exercises
folder, so no hand-in's code is imported — and then records for any other test are ignored and the
maximum is that list's length whatever the graded code claims.

At the time limit the session gets SIGTERM (which :mod:`course.harness.stop_plugin` turns into a clean
stop, fixture teardown included) and SIGKILL only after :data:`STOP_GRACE` seconds; whatever is left
of the session is killed when the run ends either way. Processes that left the session (``setsid``,
double forks) are caught by the PID namespace of the bubblewrap sandbox (:mod:`course.harness.sandbox`)
or, unsandboxed, by the subreaper that wraps pytest (:mod:`course.harness.reaper`). Every run also has
a tag (``COURSE_RUN_TAG``) carried by each database, key prefix, topic and vhost its fixtures create;
when a run ended early (:attr:`RunResult.ended_early`), whatever still carries the tag is removed from
the exercise's servers, so a run killed before teardown leaves nothing on the shared servers.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from course.harness import sandbox
from course.harness.loader import ROOT_VARIABLE, Exercise
from course.harness.report_channel import (
    HANDSHAKE_VALUE,
    HANDSHAKE_VARIABLE,
    Decoded,
    decode,
    handshake,
)
from course.testing.resources import RUN_TAG_VARIABLE, new_run_tag, remove_run_resources
from reference.config import DEFAULTS, REPO_ROOT, read_env_file

DEFAULT_TIMEOUT = 120.0
STOP_GRACE = 5.0
"""Seconds between SIGTERM and SIGKILL: time for pytest to tear down the running test's fixtures."""
PLUGINS = ("pytest_timeout",)
# Plugins a grading run loads only when the grading file names them (a word of its source → the
# plugin): each costs every run from a few hundred milliseconds (hypothesis' imports all of
# hypothesis) to seconds (schemathesis), and most exercises need none of them.
OPTIONAL_PLUGINS = {
    "asyncio": "pytest_asyncio.plugin",
    "anyio": "anyio.pytest_plugin",
    "hypothesis": "_hypothesis_pytestplugin",
    "schemathesis": "schemathesis.pytest.plugin",
}


@dataclass(frozen=True)
class TestOutcome:
    """One grading test's result, with what the learner needs to see."""

    __test__: ClassVar[bool] = False  # not a pytest test class, despite the name

    nodeid: str
    name: str
    doc: str
    outcome: str  # passed | failed | error | skipped | timeout | not run
    exc_type: str | None = None
    exc_mro: tuple[str, ...] = ()
    message: str = ""

    @property
    def passed(self) -> bool:
        return self.outcome == "passed"

    @property
    def counted(self) -> bool:
        """Skipped tests (a feature the local server lacks) count neither for nor against."""
        return self.outcome != "skipped"

    def failed_by(self, *exception_names: str) -> bool:
        """True when the test failed by one of the named exceptions (or a subclass)."""
        return self.outcome in ("failed", "error") and any(
            n in self.exc_mro for n in exception_names
        )


@dataclass
class RunResult:
    """Everything learnt from one grading run."""

    exercise: Exercise
    root: Path
    tests: list[TestOutcome] = field(default_factory=list)
    timed_out: bool = False
    collect_error: str | None = None
    returncode: int | None = None
    output: str = ""
    seconds: float = 0.0
    # Why this run's outcomes cannot be trusted (a forged report line, pytest's machinery changed):
    # any entry scores the run 0 and is shown to the instructor for review.
    integrity: list[str] = field(default_factory=list)

    @property
    def counted(self) -> list[TestOutcome]:
        return [t for t in self.tests if t.counted]

    @property
    def passed(self) -> int:
        return 0 if self.integrity else sum(t.passed for t in self.tests)

    @property
    def total(self) -> int:
        return len(self.counted)

    @property
    def ok(self) -> bool:
        """Every counted test passed, at least one ran, and nothing went wrong around them."""
        return (
            not self.timed_out
            and not self.integrity
            and self.collect_error is None
            and self.total > 0
            and self.passed == self.total
        )

    @property
    def ended_early(self) -> bool:
        """Stopped at the time limit, killed, or exited mid-test (``os._exit``): pytest's fixture
        teardown may not have run. (0 and 1 are pytest's "all passed" and "some failed".)"""
        return (
            self.timed_out
            or self.returncode not in (0, 1)
            or any(t.exc_type == "ProcessDied" for t in self.tests)
        )

    @property
    def first_failure(self) -> TestOutcome | None:
        return next((t for t in self.tests if t.counted and not t.passed), None)


def pytest_command(exercise: Exercise, only: Sequence[str] = ()) -> list[str]:
    """The pytest command line of a grading run; ``only`` limits it to those test functions (all
    their parametrisations)."""
    test_file = str(REPO_ROOT / exercise.test)
    command = [
        sys.executable,
        "-m",
        "pytest",
        *([f"{test_file}::{name}" for name in only] or [test_file]),
        "-q",
        "--no-header",
        "-p",
        "course.harness.report_plugin",
        "-p",
        "course.harness.stop_plugin",
        "-p",
        "no:cacheprovider",
        "--rootdir",
        str(REPO_ROOT),
        "-c",
        str(REPO_ROOT / "pyproject.toml"),
    ]
    source = (REPO_ROOT / exercise.test).read_text(errors="replace")
    plugins = [*PLUGINS, *(p for word, p in OPTIONAL_PLUGINS.items() if word in source)]
    for plugin in plugins:
        command += ["-p", plugin]
    # pyproject.toml also configures plugins a run may leave out (asyncio_default_fixture_loop_scope):
    # pytest's "Unknown config option" warning about them would only be noise in the output.
    command += ["-W", "ignore:Unknown config option:pytest.PytestConfigWarning"]
    return command


@dataclass(frozen=True)
class ExpectedTest:
    """One test the grading file defines, as a collection run without any hand-in saw it."""

    __test__: ClassVar[bool] = False

    nodeid: str
    name: str
    doc: str


class CollectionError(RuntimeError):
    """The grading tests themselves could not be collected (a course problem, not a student's)."""


def _server_environment() -> dict[str, str]:
    """Every server variable resolved here (environment, launcher env file, defaults), so a child
    that cannot read the launcher's env file (the sandbox) addresses the same servers."""
    file_values = read_env_file()
    return {
        name: os.environ.get(name) or file_values.get(name) or DEFAULTS[name] for name in DEFAULTS
    }


def _spawn(
    command: list[str], *, env: dict[str, str], log: Path, report: Path, token: str
) -> subprocess.Popen[bytes]:
    """Start ``command`` in a new session with the report descriptor inherited and the handshake
    written to its stdin (then closed)."""
    fd = os.open(report, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        with log.open("wb") as output:
            process = subprocess.Popen(
                command,
                cwd=REPO_ROOT,
                env={**env, HANDSHAKE_VARIABLE: HANDSHAKE_VALUE},
                stdin=subprocess.PIPE,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                pass_fds=(fd,),
            )
    finally:
        os.close(fd)
    assert process.stdin is not None
    with contextlib.suppress(BrokenPipeError):
        process.stdin.write(handshake(fd, token))
    with contextlib.suppress(BrokenPipeError):
        process.stdin.close()
    return process


def _base_environment(root: Path, tag: str) -> dict[str, str]:
    # PYTHONDONTWRITEBYTECODE (set in many container images, CI's among them) would leave the cache
    # below empty, and every run would compile pytest, the clients and the reference from source
    # again: about a second per run, hundreds of runs per verify.
    dropped = (ROOT_VARIABLE, HANDSHAKE_VARIABLE, "PYTHONDONTWRITEBYTECODE")
    inherited = {k: v for k, v in os.environ.items() if k not in dropped}
    return {
        **inherited,
        **_server_environment(),
        ROOT_VARIABLE: str(root),
        "COURSE_AUTOSTART": "0",
        RUN_TAG_VARIABLE: tag,
        # Keep bytecode out of the graded folders, in one cache reused by every run.
        "PYTHONPYCACHEPREFIX": str(sandbox.PYCACHE),
        # Load only the plugins grading needs: schemathesis' plugin alone costs seconds per run.
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
    }


def collect_expected(exercise: Exercise, timeout: float = DEFAULT_TIMEOUT) -> list[ExpectedTest]:
    """The exercise's tests as pytest collects them from an empty exercises folder: no hand-in's
    code runs, so no hand-in can add, remove or rename a test. Raises :class:`CollectionError`."""
    token = secrets.token_hex(16)
    with tempfile.TemporaryDirectory(prefix="course-collect-") as scratch:
        empty = Path(scratch) / "exercises"
        empty.mkdir()
        report, log = Path(scratch) / "report", Path(scratch) / "output.txt"
        command = [*pytest_command(exercise), "--collect-only"]
        process = _spawn(
            command,
            env=_base_environment(empty, new_run_tag()),
            log=log,
            report=report,
            token=token,
        )
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            stop_group(process)
            raise CollectionError(f"collecting {exercise.test} took over {timeout:g} s") from None
        kill_group(process)
        decoded = decode(report.read_bytes(), token)
        output = log.read_text(errors="replace")
    lists = [r["tests"] for r in decoded.records if r["event"] == "collected"]
    errors = [str(r["message"]) for r in decoded.records if r["event"] == "collect_error"]
    if errors or not lists or decoded.forged:
        raise CollectionError(
            f"could not collect {exercise.test}:\n" + "\n".join(errors or [output[-2000:]])
        )
    return [ExpectedTest(str(t["nodeid"]), str(t["name"]), str(t["doc"])) for t in lists[-1]]


def run_grading(
    exercise: Exercise,
    root: Path,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    env: dict[str, str] | None = None,
    expected: list[ExpectedTest] | None = None,
    sandboxed: bool = False,
    tag: str | None = None,
    stop_at_first_failure: bool = False,
    only: Sequence[str] = (),
) -> RunResult:
    """Run ``exercise``'s grading tests with ``root`` as the exercises folder; never raises for them.

    ``expected`` (from :func:`collect_expected`) makes the run count only those tests; without it the
    run's own collection is trusted (the learner grading their own code). ``sandboxed`` runs the job
    in a bubblewrap sandbox on a copy of ``root`` (:mod:`course.harness.sandbox`). ``tag`` is the
    run's tag when the caller made credentials for it (default: a new one).
    ``stop_at_first_failure`` stops at the first failing test (pytest ``-x``): enough to show a decoy
    is caught without paying for the rest of its tests, which are reported as not run.
    ``only`` runs just those test functions (``course verify`` tries a decoy's named catchers first).
    """
    tag = tag or new_run_tag()
    token = secrets.token_hex(16)
    with tempfile.TemporaryDirectory(prefix="course-run-") as scratch:
        report = Path(scratch) / "report.jsonl"
        log = Path(scratch) / "output.txt"
        inner = pytest_command(exercise, only) + (["-x"] if stop_at_first_failure else [])
        if sandboxed:
            copy = sandbox.copy_submission(root, Path(scratch) / "job" / "exercises")
            child_env = {
                **_base_environment(sandbox.SUBMISSION_MOUNT, tag),
                **sandbox.environment(),
            }
            command = sandbox.command(inner, exercise, copy)
        else:
            child_env = _base_environment(root, tag)
            command = [sys.executable, "-m", "course.harness.reaper", *inner]
        child_env.update(env or {})
        result = RunResult(exercise=exercise, root=root)
        started = time.monotonic()
        process = _spawn(command, env=child_env, log=log, report=report, token=token)
        try:
            result.returncode = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            result.timed_out = True
            stop_group(process)
        kill_group(process)  # whatever is left of the session, timed out or not
        result.seconds = time.monotonic() - started
        result.output = log.read_text(errors="replace")[-8000:]
        _read_report(decode(report.read_bytes(), token), result, expected, stop_at_first_failure)
    if result.ended_early or sandboxed:
        # Teardown may not have run (or the graded code made names of its own with the tag):
        # remove what still carries the run's tag.
        _removed, problems = remove_run_resources(tag, exercise.servers)
        if problems:
            result.output += "\n" + "\n".join(problems)
    if not result.tests and result.collect_error is None and not result.timed_out:
        result.collect_error = "pytest ran no test:\n" + result.output[-2000:]
    return result


def stop_group(process: subprocess.Popen[bytes], grace: float = STOP_GRACE) -> None:
    """Stop the process and everything it started (it leads its own session): SIGTERM, then
    SIGKILL for whatever is left after ``grace`` seconds."""
    with contextlib.suppress(ProcessLookupError):  # exited between the timeout and the signal
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=grace)
    kill_group(process)


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """Kill the process and everything still in its process group."""
    with contextlib.suppress(ProcessLookupError, PermissionError):  # nothing left to kill
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _read_report(
    decoded: Decoded,
    result: RunResult,
    expected: list[ExpectedTest] | None,
    stop_at_first_failure: bool = False,
) -> None:
    collected: list[ExpectedTest] = []
    results: dict[str, dict[str, Any]] = {}
    started: list[str] = []
    result.integrity += [f"report channel: {line}" for line in decoded.forged]
    for record in decoded.records:
        event = record["event"]
        if event == "collected":
            collected = [
                ExpectedTest(str(t["nodeid"]), str(t["name"]), str(t["doc"]))
                for t in record.get("tests", [])
                if isinstance(t, dict)
            ]
        elif event == "collect_error":
            result.collect_error = str(record.get("message"))
        elif event == "start":
            started.append(str(record.get("nodeid")))
        elif event == "tampered":
            what = ", ".join(str(w) for w in record.get("what", []))
            result.integrity.append(f"pytest's machinery changed while the tests ran: {what}")
        elif event == "result":
            nodeid = str(record.get("nodeid"))
            if nodeid in results:
                result.integrity.append(f"two results for {nodeid}")
            results[nodeid] = record
    tests = expected if expected is not None else collected
    running = started[-1] if started and started[-1] not in results else None
    for test in tests:
        found = results.get(test.nodeid)
        if found is not None:
            mro = found.get("exc_mro") or []
            result.tests.append(
                TestOutcome(
                    nodeid=test.nodeid,
                    name=test.name,
                    doc=test.doc,
                    outcome=str(found.get("outcome")),
                    exc_type=str(found["exc_type"]) if found.get("exc_type") else None,
                    exc_mro=tuple(str(m) for m in mro) if isinstance(mro, list) else (),
                    message=str(found.get("message") or ""),
                )
            )
        elif stop_at_first_failure and result.returncode == 1 and _failed(results.values()):
            result.tests.append(
                TestOutcome(
                    nodeid=test.nodeid,
                    name=test.name,
                    doc=test.doc,
                    outcome="not run",
                    message="not run: the run stopped at its first failing test",
                )
            )
        elif not result.timed_out:
            result.tests.append(
                TestOutcome(
                    nodeid=test.nodeid,
                    name=test.name,
                    doc=test.doc,
                    outcome="error",
                    exc_type="ProcessDied",
                    message=f"the test process ended (exit code {result.returncode}) "
                    "before this test finished",
                )
            )
        else:
            is_running = test.nodeid == running
            result.tests.append(
                TestOutcome(
                    nodeid=test.nodeid,
                    name=test.name,
                    doc=test.doc,
                    outcome="timeout" if is_running else "not run",
                    exc_type="Timeout" if is_running else None,
                    message=(
                        "stopped at the time limit while this test was running"
                        if is_running
                        else "the time limit was reached before this test started"
                    ),
                )
            )


def _failed(records: Iterable[dict[str, Any]]) -> bool:
    return any(r.get("outcome") in ("failed", "error") for r in records)
