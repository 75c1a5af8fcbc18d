"""The pytest plugin behind grading records each test's outcome, failure type and docstring, over a
channel only the runner can read and only the plugin can write to; it notices pytest being patched."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from course.harness import report_channel, report_plugin

SAMPLE = '''
import pytest


@pytest.fixture
def broken():
    raise ModuleNotFoundError("No module named 'nothere'")


def test_passes():
    """This one is fine."""


def test_fails():
    """The learner reads this."""
    assert 1 + 1 == 3, "arithmetic is off"


def test_stub():
    raise NotImplementedError


def test_setup_error(broken):
    pass


def test_explicit_fail():
    pytest.fail("told to fail")


@pytest.mark.skip(reason="needs genuine MongoDB")
def test_skipped():
    pass
'''


def run_sample(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str
) -> list[dict[str, Any]]:
    # A module name of its own: nested pytest runs share this process's sys.modules.
    sample = tmp_path / f"test_sample_{uuid.uuid4().hex[:8]}.py"
    sample.write_text(source)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    report = tmp_path / "report.jsonl"
    monkeypatch.chdir(tmp_path)
    report_plugin.connect(os.open(report, os.O_WRONLY | os.O_CREAT | os.O_APPEND), "tok")
    try:
        pytest.main(
            [
                str(sample),
                "-q",
                "--import-mode=importlib",
                "-p",
                "no:cacheprovider",
                "-c",
                str(tmp_path / "pytest.ini"),
            ],
            plugins=[report_plugin],
        )
    finally:
        report_plugin.disconnect()
    decoded = report_channel.decode(report.read_bytes(), "tok")
    assert decoded.forged == []
    return decoded.records


def test_plugin_records_outcomes_types_and_docstrings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = run_sample(tmp_path, monkeypatch, SAMPLE)
    collected = records[0]
    assert collected["event"] == "collected"
    docs = {t["name"]: t["doc"] for t in collected["tests"]}
    assert docs["test_fails"] == "The learner reads this."
    assert docs["test_stub"] == ""
    results = {str(r["nodeid"]).split("::")[-1]: r for r in records if r["event"] == "result"}
    assert results["test_passes"]["outcome"] == "passed"
    assert results["test_fails"]["outcome"] == "failed"
    assert results["test_fails"]["exc_type"] == "AssertionError"
    assert "arithmetic is off" in str(results["test_fails"]["message"])
    assert results["test_stub"]["exc_mro"][:2] == ["NotImplementedError", "RuntimeError"]
    assert results["test_setup_error"]["outcome"] == "error"
    assert results["test_setup_error"]["phase"] == "setup"
    assert results["test_setup_error"]["exc_type"] == "ModuleNotFoundError"
    assert results["test_explicit_fail"]["message"] == "told to fail"
    assert results["test_skipped"]["outcome"] == "skipped"
    assert "needs genuine MongoDB" in str(results["test_skipped"]["message"])
    assert sum(r["event"] == "start" for r in records) == 6


def test_plugin_records_collection_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    records = run_sample(tmp_path, monkeypatch, "def test_broken(:\n    pass\n")
    errors = [r for r in records if r["event"] == "collect_error"]
    assert errors
    assert "SyntaxError" in str(errors[0]["message"])


def test_plugin_is_silent_without_a_channel(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    report_plugin._write({"event": "nothing"})  # not connected: nothing happens, nothing raises
    assert list(tmp_path.iterdir()) == []


PATCHES_PYTEST = """
import _pytest.python


def test_patches():
    _pytest.python.Function.runtest = lambda self: None


def test_would_fail():
    assert False
"""


def test_plugin_reports_pytest_patched_during_a_test(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A test (here standing for the learner's import) that replaces Function.runtest makes every
    later test pass without running: the plugin's comparison with its snapshot names the change."""
    original = pytest.Function.runtest
    try:
        records = run_sample(tmp_path, monkeypatch, PATCHES_PYTEST)
    finally:
        pytest.Function.runtest = original  # type: ignore[method-assign]
    tampered = [r for r in records if r["event"] == "tampered"]
    assert tampered
    assert "_pytest.python.Function.runtest" in tampered[0]["what"]
    assert str(tampered[0]["nodeid"]).endswith("test_patches")


def test_plugin_is_quiet_about_an_honest_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = run_sample(tmp_path, monkeypatch, SAMPLE)
    assert [r for r in records if r["event"] == "tampered"] == []
    assert records[-1]["event"] == "finished"


def test_lines_without_the_token_or_not_records_are_forged() -> None:
    good = report_channel.encode("tok", {"event": "start", "nodeid": "a"})
    data = (
        good
        + b"this is not JSON\n"
        + b'{"event": "result", "nodeid": "a", "outcome": "passed"}\n'
        + b"tok [1, 2]\n"
        + b"tok {not json\n"
        + report_channel.encode("other", {"event": "start", "nodeid": "b"})
    )
    decoded = report_channel.decode(data, "tok")
    assert decoded.records == [{"event": "start", "nodeid": "a"}]
    assert len(decoded.forged) == 5
    assert decoded.forged[0].startswith("line 2 does not carry the run's token")


HANDSHAKE_CHILD = """
import os, sys
from course.harness import report_channel
found = report_channel.read_fd_handshake()
print(found, os.environ.get("COURSE_REPORT"), repr(sys.stdin.read()))
"""


def test_the_handshake_comes_over_stdin_and_leaves_nothing_to_find() -> None:
    """The descriptor number and token arrive on stdin; afterwards the environment no longer
    names the channel and stdin is empty, so the learner's code finds neither."""
    child = subprocess.run(
        [sys.executable, "-c", HANDSHAKE_CHILD],
        input=report_channel.handshake(7, "s3cret"),
        env={**os.environ, report_channel.HANDSHAKE_VARIABLE: report_channel.HANDSHAKE_VALUE},
        capture_output=True,
        check=True,
    )
    assert child.stdout.decode().split() == ["(7,", "'s3cret')", "None", "''"]
