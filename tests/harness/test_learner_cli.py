"""``course check``, ``hint``, ``reset``, ``progress`` and ``watch`` end to end, against the real servers."""

from __future__ import annotations

import json
import re
import subprocess
import threading
import time
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from course.cli import app
from course.harness import learner
from course.harness.catalogue import ordered
from course.harness.loader import Exercise, catalogue
from course.harness.progress import Progress
from reference.config import REPO_ROOT

HEALTH = catalogue()["00.1"]


def test_check_on_the_stub_fails_and_shows_the_first_failing_test(
    cli: CliRunner, stub_root: Path, progress_file: Path
) -> None:
    """The learner sees the failing test's docstring and what to do about NotImplementedError."""
    result = cli.invoke(app, ["check", "00.1"])
    assert result.exit_code == 1, result.output
    assert "✘ 00.1" in result.output
    assert re.search(r"0/\d+ tests pass", result.output)
    assert "First failing test: test_unknown_server_is_a_value_error" in result.output
    assert "must raise ValueError" in result.output  # the test's docstring
    assert "still the stub" in result.output
    assert "00_setup" in result.output
    assert "0/1" in result.output
    saved = json.loads(progress_file.read_text())
    assert saved["exercises"]["00.1"]["status"] == "failed"


def test_check_on_a_solved_exercise_passes_and_records_progress(
    cli: CliRunner, solved_root: Path, progress_file: Path
) -> None:
    """A pass is recorded, and the output ends with the next exercise and its command (one check
    of 00.1's solution for both: it waits on the grading tests' own timeouts, ~13 s)."""
    result = cli.invoke(app, ["check", "00_setup"])
    assert result.exit_code == 0, result.output
    assert "✔ 00.1" in result.output
    assert re.search(r"(\d+)/\1 tests pass", result.output)
    assert "1/1" in result.output
    assert Progress.load().is_done("00.1")
    after = ordered()[ordered().index(HEALTH) + 1]
    last = [line for line in result.output.splitlines() if line.strip()][-1]
    assert last == f"Next: {after.id} {after.title} — course check {after.id}"

    shown = cli.invoke(app, ["progress"])
    assert shown.exit_code == 0
    assert "passed" in shown.output
    assert re.search(r"(\d+)/\1", shown.output)


def test_check_names_the_command_that_starts_an_unreachable_server(
    cli: CliRunner, stub_root: Path, monkeypatch: pytest.MonkeyPatch, closed_port: int
) -> None:
    """A server that does not answer, and that check may not start (``COURSE_AUTOSTART=0``), is
    reported with its URL and `course services up NAME`."""
    monkeypatch.setenv("COURSE_AUTOSTART", "0")
    monkeypatch.setenv("REDIS_URL", f"redis://:course@127.0.0.1:{closed_port}/0")
    result = cli.invoke(app, ["check", "00.1"])
    assert result.exit_code == 1
    assert f"redis is not reachable at redis://:course@127.0.0.1:{closed_port}/0" in result.output
    assert "Start it with:  course services up redis" in result.output
    assert "not checked: needs redis" in result.output


def test_check_rejects_an_unknown_target(cli: CliRunner) -> None:
    result = cli.invoke(app, ["check", "99.9"])
    assert result.exit_code == 2
    assert "no exercise or chapter '99.9'" in result.output


def test_hint_reveals_one_more_hint_each_time(cli: CliRunner, progress_file: Path) -> None:
    outputs = [cli.invoke(app, ["hint", "00.1"]).output for _ in range(len(HEALTH.hints) + 1)]
    for number, output in enumerate(outputs[: len(HEALTH.hints)], start=1):
        assert f"Hint {number}/{len(HEALTH.hints)} for 00.1" in output
        assert HEALTH.hints[number - 1][:40] in " ".join(output.split())
    assert f"Hint {len(HEALTH.hints)}/{len(HEALTH.hints)}" in outputs[-1]
    assert "that is the last hint" in outputs[-1]
    assert json.loads(progress_file.read_text())["hints"]["00.1"] == len(HEALTH.hints)
    unknown = cli.invoke(app, ["hint", "nope"])
    assert unknown.exit_code == 2
    assert "no exercise 'nope'" in unknown.output


def test_hint_without_id_uses_the_current_exercise(cli: CliRunner) -> None:
    first = ordered()[0]
    assert f"for {first.id}" in cli.invoke(app, ["hint"]).output


def test_reset_restores_the_committed_stub_after_confirmation(
    cli: CliRunner, solved_root: Path
) -> None:
    target = solved_root / "00_setup" / "health_check.py"
    committed = subprocess.run(
        ["git", "show", f"HEAD:{HEALTH.stub}"], cwd=REPO_ROOT, capture_output=True, check=True
    ).stdout
    assert target.read_bytes() != committed

    declined = cli.invoke(app, ["reset", "00.1"], input="n\n")
    assert declined.exit_code == 1
    assert "not reset" in declined.output
    assert target.read_bytes() != committed

    confirmed = cli.invoke(app, ["reset", "00.1"], input="y\n")
    assert confirmed.exit_code == 0, confirmed.output
    assert target.read_bytes() == committed

    target.write_text("# my attempt\n")
    assert cli.invoke(app, ["reset", "00.1", "--yes"]).exit_code == 0
    assert target.read_bytes() == committed


def test_reset_explains_a_stub_git_does_not_have(cli: CliRunner) -> None:
    ghost = Exercise("00.9", "00_setup", "ghost", "Ghost", (), 1, ("h",))
    with pytest.raises(
        learner.ResetError, match=r"git has no committed exercises/00_setup/ghost\.py"
    ):
        learner.reset(ghost)


def test_progress_lists_every_chapter_and_the_next_exercise(cli: CliRunner) -> None:
    result = cli.invoke(app, ["progress"])
    assert result.exit_code == 0
    for exercise in catalogue().values():
        assert exercise.chapter in result.output
    assert "not checked" in result.output
    assert "Next: " in result.output


def test_progress_says_so_when_everything_passes(cli: CliRunner) -> None:
    progress = Progress()
    for exercise_id in catalogue():
        progress.record(exercise_id, passed=1, total=1, ok=True)
    progress.save()
    assert "Every exercise passes." in cli.invoke(app, ["progress"]).output
    assert cli.invoke(app, ["check"]).exit_code == 0  # nothing left: says so, fails nothing
    assert cli.invoke(app, ["watch"]).exit_code == 0


def test_progress_survives_a_corrupt_file(progress_file: Path) -> None:
    progress_file.write_text("{not json")
    assert Progress.load().exercises == {}
    progress_file.write_text(json.dumps({"version": 99}))
    assert Progress.load().exercises == {}


class ScriptedCheck:
    """Stands in for ``learner.check`` in watch tests: answers from a script and records progress."""

    def __init__(self, answers: list[bool]) -> None:
        self.answers = answers
        self.calls: list[str] = []

    def __call__(self, console: Console, exercises: list[Exercise], *, timeout: float) -> bool:
        ok = self.answers[min(len(self.calls), len(self.answers) - 1)]
        self.calls.append(exercises[0].id)
        progress = Progress.load()
        progress.record(exercises[0].id, passed=int(ok), total=1, ok=ok)
        progress.save()
        return ok


def test_watch_poll_rechecks_on_enter_and_stops_at_end_of_input(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The manual fallback: every Enter re-checks; end of input (or q) quits."""
    scripted = ScriptedCheck([False])
    monkeypatch.setattr(learner, "check", scripted)
    result = cli.invoke(app, ["watch", "00.1", "--poll"], input="\n")
    assert result.exit_code == 1
    assert scripted.calls == ["00.1", "00.1"]
    assert "press Enter to re-check" in result.output

    scripted.calls.clear()
    assert cli.invoke(app, ["watch", "00.1", "--poll"], input="q\n\n").exit_code == 1
    assert scripted.calls == ["00.1"]


def test_watch_poll_stops_once_the_exercise_passes(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    scripted = ScriptedCheck([False, True])
    monkeypatch.setattr(learner, "check", scripted)
    result = cli.invoke(app, ["watch", "00.1", "--poll"], input="\n\n\n")
    assert result.exit_code == 0
    assert scripted.calls == ["00.1", "00.1"]


def test_watch_without_id_moves_on_to_the_next_unfinished_exercise(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    scripted = ScriptedCheck([True])
    monkeypatch.setattr(learner, "check", scripted)
    result = cli.invoke(app, ["watch", "--poll"], input="")
    assert result.exit_code == 0
    assert scripted.calls == [e.id for e in ordered()]
    assert "Every exercise passes." in result.output


def test_watch_rechecks_when_a_file_is_saved(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch, stub_root: Path
) -> None:
    """Without --poll, saving a .py file under the exercises folder triggers a check."""
    scripted = ScriptedCheck([False, True])
    monkeypatch.setattr(learner, "check", scripted)

    def save_repeatedly() -> None:
        target = stub_root / "00_setup" / "health_check.py"
        for _ in range(40):
            if len(scripted.calls) >= 2:
                return
            time.sleep(0.5)
            target.write_text(target.read_text() + "\n")

    saver = threading.Thread(target=save_repeatedly, daemon=True)
    saver.start()
    result = cli.invoke(app, ["watch", "00.1"], input="")
    saver.join()
    assert result.exit_code == 0, result.output
    assert scripted.calls == ["00.1", "00.1"]
    assert "save the file (or press Enter)" in result.output


def test_watch_rejects_an_unknown_id(cli: CliRunner) -> None:
    assert cli.invoke(app, ["watch", "nope", "--poll"]).exit_code == 2
