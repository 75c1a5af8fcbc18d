"""The pytest plugin behind grading records each test's outcome, failure type and docstring."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from course.harness import report_plugin

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
) -> list[dict[str, object]]:
    # A module name of its own: nested pytest runs share this process's sys.modules.
    sample = tmp_path / f"test_sample_{uuid.uuid4().hex[:8]}.py"
    sample.write_text(source)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    report = tmp_path / "report.jsonl"
    monkeypatch.setenv(report_plugin.REPORT_VARIABLE, str(report))
    monkeypatch.chdir(tmp_path)
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
    return [json.loads(line) for line in report.read_text().splitlines()]


def test_plugin_records_outcomes_types_and_docstrings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = run_sample(tmp_path, monkeypatch, SAMPLE)
    collected = records[0]
    assert collected["event"] == "collected"
    docs = {t["name"]: t["doc"] for t in collected["tests"]}  # type: ignore[attr-defined]
    assert docs["test_fails"] == "The learner reads this."
    assert docs["test_stub"] == ""
    results = {str(r["nodeid"]).split("::")[-1]: r for r in records if r["event"] == "result"}
    assert results["test_passes"]["outcome"] == "passed"
    assert results["test_fails"]["outcome"] == "failed"
    assert results["test_fails"]["exc_type"] == "AssertionError"
    assert "arithmetic is off" in str(results["test_fails"]["message"])
    assert results["test_stub"]["exc_mro"][:2] == ["NotImplementedError", "RuntimeError"]  # type: ignore[index]
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


def test_plugin_is_silent_without_a_report_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(report_plugin.REPORT_VARIABLE, raising=False)
    monkeypatch.chdir(tmp_path)
    report_plugin._write({"event": "nothing"})  # no file named: nothing happens, nothing raises
    assert list(tmp_path.iterdir()) == []
