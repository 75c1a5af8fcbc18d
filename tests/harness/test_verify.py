"""``course verify``: stub fails for the right reason, solution passes, decoys are caught."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from course.cli import app
from course.harness import catalogue as cat
from course.harness.catalogue import named_catchers
from course.harness.loader import catalogue
from course.harness.runner import RunResult, TestOutcome, run_grading
from course.harness.verify import Verdict, _decoy_root, run_decoy
from reference.config import REPO_ROOT

HEALTH = catalogue()["00.1"]


def outcome(name: str, result: str, exc: str | None = None, message: str = "") -> TestOutcome:
    mro = (exc, "Exception", "BaseException", "object") if exc else ()
    return TestOutcome(f"t::{name}", name, "doc", result, exc, mro, message)


def run(
    *tests: TestOutcome, timed_out: bool = False, collect_error: str | None = None
) -> RunResult:
    return RunResult(
        HEALTH, Path("."), list(tests), timed_out=timed_out, collect_error=collect_error
    )


def test_verdict_reports_every_gap() -> None:
    """Wrong failure reasons, passing stubs, failing solutions, uncaught decoys and timeouts are gaps."""
    stub = run(
        outcome("a", "failed", "NotImplementedError"),
        outcome("b", "passed"),
        outcome("c", "error", "ConnectionError", "server down"),
        outcome("d", "skipped"),
    )
    solution = run(outcome("a", "passed"), outcome("b", "failed", "AssertionError", "nope"))
    verdict = Verdict(HEALTH, stub=stub, solution=solution)
    verdict.decoys["grading/00_setup/decoys/x__y.py"] = run(outcome("a", "passed"))
    verdict.decoys["grading/00_setup/decoys/x__z.py"] = run(timed_out=True)
    gaps = "\n".join(verdict.gaps())
    assert "stub passes b" in gaps
    assert "stub fails c for the wrong reason: ConnectionError (server down)" in gaps
    assert "solution fails b: AssertionError nope" in gaps
    assert "stub ran 3 tests but the solution 2" in gaps
    assert "decoy x__y.py passes every test" in gaps
    assert verdict.line() == "00.1  stub fails 1/3 · solution passes 1/2 · decoys fail 1/2"


def test_verdict_reports_timeouts_and_collection_errors() -> None:
    verdict = Verdict(HEALTH, stub=run(timed_out=True), solution=run(collect_error="boom"))
    gaps = "\n".join(verdict.gaps())
    assert "stub: timed out" in gaps
    assert "solution: tests not collected: boom" in gaps


def test_verify_rejects_an_unknown_id(cli: CliRunner) -> None:
    result = cli.invoke(app, ["verify", "42.42"])
    assert result.exit_code == 2
    assert "no exercise or chapter '42.42'" in result.output


def test_verify_names_a_file_no_catalogue_block_owns(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An exercise file without its [[exercise]] block (or a block without its files) is a catalogue
    problem in `course verify`, before any run."""
    real = cat.course_files()
    monkeypatch.setattr(cat, "course_files", lambda: [*real, "exercises/00_setup/stray.py"])
    result = cli.invoke(app, ["verify", "no-such-exercise"])
    assert result.exit_code == 2
    assert (
        "catalogue: exercises/00_setup/stray.py: belongs to no exercise in exercises.toml"
        in result.output
    )


def test_a_decoy_run_stops_at_its_first_failing_test(tmp_path: Path) -> None:
    """Verify needs one failing test to call a decoy caught: the run stops there (``-x``), the tests
    after it are reported as not run, and the run does not count as ended early (no cleanup sweep).
    (The whole CLI verify of an exercise runs in tests/harness/test_progress_lines.py.)"""
    exercise = catalogue()["01.1"]
    decoy = next(d for d in exercise.decoys if d.endswith("__verbs_before_paths.py"))
    result = run_grading(
        exercise, _decoy_root(exercise, decoy, tmp_path), stop_at_first_failure=True
    )
    outcomes = [t.outcome for t in result.tests]
    assert outcomes.count("failed") + outcomes.count("error") == 1, outcomes
    first = next(k for k, o in enumerate(outcomes) if o in ("failed", "error"))
    assert set(outcomes[:first]) <= {"passed", "skipped"}, outcomes
    assert first + 1 < len(outcomes), "this decoy should fail before the last test"
    assert set(outcomes[first + 1 :]) == {"not run"}, outcomes
    assert not result.ended_early
    assert result.passed < result.total


def test_a_decoy_runs_only_the_tests_its_docstring_names_when_one_of_them_catches_it(
    tmp_path: Path,
) -> None:
    """``Caught by test_returns_a_level`` in the docstring: that test runs alone and catches it, so the
    fixtures and tests before it in the file are never paid for."""
    exercise = catalogue()["01.1"]
    decoy = tmp_path / "rmm_level__names_its_catcher.py"
    source = (REPO_ROOT / exercise.solution).read_text()
    decoy.write_text(
        '"""Decoy: returns a string. Caught by test_returns_a_level."""\n'
        + source
        + "\n\n_real = classify\n\n\ndef classify(*args, **kwargs):  # type: ignore[no-untyped-def]\n"
        + "    return str(_real(*args, **kwargs))\n"
    )
    assert named_catchers(exercise, str(decoy)) == ("test_returns_a_level",)
    result = run_decoy(exercise, str(decoy), _decoy_root(exercise, str(decoy), tmp_path), 120)
    assert {t.name.split("[")[0] for t in result.tests} == {"test_returns_a_level"}
    assert result.first_failure is not None


def test_a_decoy_whose_docstring_names_the_wrong_test_is_still_caught_by_the_whole_file(
    tmp_path: Path,
) -> None:
    """A stale docstring costs a second run, never a wrong verdict."""
    exercise = catalogue()["01.1"]
    real = next(d for d in exercise.decoys if d.endswith("__verbs_before_paths.py"))
    decoy = tmp_path / "rmm_level__stale_docstring.py"
    body = (REPO_ROOT / real).read_text().split('"""', 2)[2]
    decoy.write_text('"""Decoy: caught by test_returns_a_level (it is not)."""' + body)
    assert named_catchers(exercise, str(decoy)) == ("test_returns_a_level",)
    result = run_decoy(exercise, str(decoy), _decoy_root(exercise, str(decoy), tmp_path), 120)
    caught = result.first_failure
    assert caught is not None
    assert caught.name.startswith("test_classifies_each_trace"), caught
