"""Run one exercise's grading tests against one exercises folder, in a subprocess of its own.

The subprocess gets ``COURSE_EXERCISES_ROOT`` (whose files to grade), runs in a new process group so a
time limit can stop everything it started, and reports per-test outcomes through
:mod:`course.harness.report_plugin`. Nothing the graded code does can reach the calling process.

At the time limit the group gets SIGTERM (which :mod:`course.harness.stop_plugin` turns into a clean
stop, fixture teardown included) and SIGKILL only after :data:`STOP_GRACE` seconds. Every run also has
a tag (``COURSE_RUN_TAG``) carried by each database, key prefix, topic and vhost its fixtures create;
when a run ended early (:attr:`RunResult.ended_early`), whatever still carries the tag is removed from
the exercise's servers, so a run killed before teardown leaves nothing on the shared servers.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from course.harness.loader import REPORT_VARIABLE, ROOT_VARIABLE, Exercise
from course.testing.resources import RUN_TAG_VARIABLE, new_run_tag, remove_run_resources
from reference.config import REPO_ROOT

DEFAULT_TIMEOUT = 120.0
STOP_GRACE = 5.0
"""Seconds between SIGTERM and SIGKILL: time for pytest to tear down the running test's fixtures."""
PYCACHE = REPO_ROOT / ".course" / "pycache"
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

    @property
    def counted(self) -> list[TestOutcome]:
        return [t for t in self.tests if t.counted]

    @property
    def passed(self) -> int:
        return sum(t.passed for t in self.tests)

    @property
    def total(self) -> int:
        return len(self.counted)

    @property
    def ok(self) -> bool:
        """Every counted test passed, at least one ran, and nothing went wrong around them."""
        return (
            not self.timed_out
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


def pytest_command(exercise: Exercise, junit: Path | None = None) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "pytest",
        str(REPO_ROOT / exercise.test),
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
    if junit is not None:
        command += ["--junitxml", str(junit)]
    return command


def run_grading(
    exercise: Exercise,
    root: Path,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    env: dict[str, str] | None = None,
    junit: Path | None = None,
) -> RunResult:
    """Run ``exercise``'s grading tests with ``root`` as the exercises folder; never raises for them."""
    tag = new_run_tag()
    with tempfile.TemporaryDirectory(prefix="course-run-") as scratch:
        report = Path(scratch) / "report.jsonl"
        log = Path(scratch) / "output.txt"
        child_env = {
            **os.environ,
            ROOT_VARIABLE: str(root),
            REPORT_VARIABLE: str(report),
            "COURSE_AUTOSTART": "0",
            RUN_TAG_VARIABLE: tag,
            # Keep bytecode out of the graded folders, in one cache reused by every run.
            "PYTHONPYCACHEPREFIX": str(PYCACHE),
            # Load only the plugins grading needs: schemathesis' plugin alone costs seconds per run.
            "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
            **(env or {}),
        }
        result = RunResult(exercise=exercise, root=root)
        started = time.monotonic()
        with log.open("wb") as output:
            process = subprocess.Popen(
                pytest_command(exercise, junit),
                cwd=REPO_ROOT,
                env=child_env,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                result.returncode = process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                result.timed_out = True
                stop_group(process)
        result.seconds = time.monotonic() - started
        result.output = log.read_text(errors="replace")[-8000:]
        _read_report(report, result)
    if result.ended_early:
        # Teardown may not have run: remove what still carries the run's tag.
        _removed, problems = remove_run_resources(tag, exercise.servers)
        if problems:
            result.output += "\n" + "\n".join(problems)
    if not result.tests and result.collect_error is None and not result.timed_out:
        result.collect_error = "pytest ran no test:\n" + result.output[-2000:]
    return result


def stop_group(process: subprocess.Popen[bytes], grace: float = STOP_GRACE) -> None:
    """Stop the process and everything it started (it leads its own process group): SIGTERM, then
    SIGKILL for whatever is left after ``grace`` seconds."""
    with contextlib.suppress(ProcessLookupError):  # exited between the timeout and the signal
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=grace)
    kill_group(process)


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """Kill the process and everything it started (it leads its own process group)."""
    with contextlib.suppress(ProcessLookupError):  # exited between the timeout and the kill
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _read_report(path: Path, result: RunResult) -> None:
    collected: list[dict[str, str]] = []
    results: dict[str, dict[str, object]] = {}
    started: list[str] = []
    if path.exists():
        for line in path.read_text().splitlines():
            record = json.loads(line)
            if record["event"] == "collected":
                collected = record["tests"]
            elif record["event"] == "collect_error":
                result.collect_error = record["message"]
            elif record["event"] == "start":
                started.append(record["nodeid"])
            else:
                results[record["nodeid"]] = record
    running = started[-1] if started and started[-1] not in results else None
    for test in collected:
        record = results.get(test["nodeid"])
        if record is not None:
            mro = record.get("exc_mro") or []
            assert isinstance(mro, list)
            result.tests.append(
                TestOutcome(
                    nodeid=test["nodeid"],
                    name=test["name"],
                    doc=test["doc"],
                    outcome=str(record["outcome"]),
                    exc_type=str(record["exc_type"]) if record.get("exc_type") else None,
                    exc_mro=tuple(str(m) for m in mro),
                    message=str(record.get("message") or ""),
                )
            )
        elif not result.timed_out:
            result.tests.append(
                TestOutcome(
                    nodeid=test["nodeid"],
                    name=test["name"],
                    doc=test["doc"],
                    outcome="error",
                    exc_type="ProcessDied",
                    message=f"the test process ended (exit code {result.returncode}) "
                    "before this test finished",
                )
            )
        else:
            is_running = test["nodeid"] == running
            result.tests.append(
                TestOutcome(
                    nodeid=test["nodeid"],
                    name=test["name"],
                    doc=test["doc"],
                    outcome="timeout" if is_running else "not run",
                    exc_type="Timeout" if is_running else None,
                    message=(
                        "stopped at the time limit while this test was running"
                        if is_running
                        else "the time limit was reached before this test started"
                    ),
                )
            )
