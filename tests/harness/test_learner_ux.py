"""The learner's way through the course: what is next after a pass, how watch redraws, every failing
test on request, a syntax error at its line, near ids for a typo, reset forgetting hints, difficulty
and time in progress, and ``course solution`` only after a pass (or never, without ``solutions/``)."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from course.cli import app
from course.harness import cli as harness_cli
from course.harness import learner
from course.harness.catalogue import ordered
from course.harness.loader import CatalogueError, Exercise, catalogue
from course.harness.progress import Progress
from reference.config import REPO_ROOT

HEALTH = catalogue()["00.1"]
AFTER_HEALTH = ordered()[ordered().index(HEALTH) + 1]


def last_line(output: str) -> str:
    return [line for line in output.splitlines() if line.strip()][-1]


class ScriptedCheck:
    """Stands in for ``learner.check`` in watch tests: answers from a script and records progress."""

    def __init__(self, answers: list[bool]) -> None:
        self.answers = answers
        self.calls: list[str] = []

    def __call__(
        self, console: Console, exercises: list[Exercise], *, timeout: float, verbose: bool = False
    ) -> bool:
        ok = self.answers[min(len(self.calls), len(self.answers) - 1)]
        self.calls.append(exercises[0].id)
        console.print(f"checked {exercises[0].id}")
        progress = Progress.load()
        progress.record(exercises[0].id, passed=int(ok), total=1, ok=ok)
        progress.save()
        return ok


def test_next_skips_passed_exercises_and_wraps_to_the_first_unfinished() -> None:
    course = ordered()
    progress = Progress()
    for exercise in course[1:3]:
        progress.record(exercise.id, passed=1, total=1, ok=True)
    assert learner.next_exercise(progress, course[0]) == course[3]
    for exercise in course[4:]:
        progress.record(exercise.id, passed=1, total=1, ok=True)
    assert learner.next_exercise(progress, course[-1]) == course[0]  # wraps to the unfinished
    progress.record(course[0].id, passed=1, total=1, ok=True)
    progress.record(course[3].id, passed=1, total=1, ok=True)
    assert learner.next_exercise(progress, course[0]) is None


def test_watch_ends_with_the_next_exercise_once_it_passes(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(learner, "check", ScriptedCheck([False, True]))
    result = cli.invoke(app, ["watch", "00.1", "--poll"], input="\n")
    assert result.exit_code == 0, result.output
    assert last_line(result.output) == (
        f"Next: {AFTER_HEALTH.id} {AFTER_HEALTH.title} — course watch {AFTER_HEALTH.id}"
    )


CLEAR = "\x1b[2J"


def run_watch(console: Console, monkeypatch: pytest.MonkeyPatch) -> ScriptedCheck:
    scripted = ScriptedCheck([False, True])
    monkeypatch.setattr(learner, "check", scripted)
    assert learner.watch(console, "00.1", poll=True, stdin=io.StringIO("\n")) == 0
    return scripted


def test_watch_redraws_the_screen_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every check starts on a cleared screen instead of scrolling below the previous one."""
    screen = io.StringIO()
    scripted = run_watch(
        Console(file=screen, force_terminal=True, width=100, highlight=False), monkeypatch
    )
    assert len(scripted.calls) == 2
    assert screen.getvalue().count(CLEAR) == 2
    after_last_clear = screen.getvalue().rsplit(CLEAR, 1)[1]
    assert after_last_clear.count("checked 00.1") == 1  # only the latest check is on screen
    assert f"course watch {AFTER_HEALTH.id}" in after_last_clear


def test_watch_appends_when_output_is_not_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Piped into a log (or captured by a test), nothing is cleared and every check stays readable."""
    log = io.StringIO()
    run_watch(Console(file=log, force_terminal=False, width=100, highlight=False), monkeypatch)
    assert CLEAR not in log.getvalue()
    assert "\x1b[" not in log.getvalue()
    assert log.getvalue().count("checked 00.1") == 2


def test_check_verbose_lists_every_failing_test(cli: CliRunner, stub_root: Path) -> None:
    """Without --verbose only the first failure (and a pointer to --verbose); with it, all."""
    short = cli.invoke(app, ["check", "00.1"])
    total = int(re.search(r"0/(\d+) tests pass", short.output)[1])  # type: ignore[index]
    assert total > 1
    assert "First failing test:" in short.output
    assert "course check --verbose lists every failing test" in short.output
    assert "Failing test" not in short.output

    full = cli.invoke(app, ["check", "00.1", "--verbose"])
    assert full.exit_code == 1
    numbered = re.findall(r"Failing test (\d+)/(\d+): (\S+)", full.output)
    assert [(int(n), int(of)) for n, of, _name in numbered] == [
        (n, total) for n in range(1, total + 1)
    ]
    assert len({name for _n, _of, name in numbered}) == total
    assert full.output.count("still the stub") == total


def test_a_syntax_error_is_shown_at_its_line_with_a_caret(
    cli: CliRunner, stub_root: Path, progress_file: Path
) -> None:
    """Python's own report (file, line, the line, a caret), not a test's docstring above it."""
    target = stub_root / HEALTH.relative_path
    lines = target.read_text().splitlines()
    lines.append("def broken(server:\n    return server")
    target.write_text("\n".join(lines) + "\n")
    result = cli.invoke(app, ["check", "00.1"])
    assert result.exit_code == 1
    output = result.output
    assert f"✘ 00.1  {HEALTH.title}  your file does not parse: no test ran" in output
    assert f'File "{target}", line {len(lines)}' in output
    shown = output.splitlines()
    code = shown.index("    def broken(server:")
    assert shown[code + 1] == "    " + " " * len("def broken") + "^"
    assert "SyntaxError: '(' was never closed" in output
    assert "First failing test" not in output
    assert json.loads(progress_file.read_text())["exercises"]["00.1"]["status"] == "failed"


def test_an_indentation_error_points_at_its_line(cli: CliRunner, stub_root: Path) -> None:
    target = stub_root / HEALTH.relative_path
    target.write_text("import os\n\ndef f():\nreturn 1\n")
    result = cli.invoke(app, ["check", "00.1"])
    assert f'File "{target}", line 4' in result.output
    assert "    return 1\n    ^" in result.output
    assert "IndentationError: expected an indented block" in result.output


@pytest.mark.parametrize(
    ("command", "typo", "suggested"),
    [
        (["hint"], "01.22", "Did you mean 01.2?"),
        (["hint"], "2.9", "Did you mean 02.9?"),
        (["watch"], "01.10", "Did you mean 01.1?"),
        (["check"], "00.1x", "Did you mean 00.1?"),
    ],
)
def test_a_typo_d_id_gets_the_nearest_ids_in_course_order(
    cli: CliRunner, command: list[str], typo: str, suggested: str
) -> None:
    result = cli.invoke(app, [*command, typo])
    assert result.exit_code == 2
    assert f"no exercise{' or chapter' if command == ['check'] else ''} {typo!r}" in result.output
    assert suggested in result.output


def test_several_near_ids_come_in_course_order(cli: CliRunner) -> None:
    """ "9.1" is as near to every chapter's first exercise: the suggestions are those, in course
    order (derived from the catalogue, so a new chapter does not break the test)."""
    result = cli.invoke(app, ["solution", "9.1"])
    assert result.exit_code == 2
    match = re.search(r"Did you mean ([\d., ]+)\?", result.output)
    assert match, result.output
    suggested = match.group(1).split(", ")
    course_order = [e.id for e in ordered()]
    assert len(suggested) >= 2
    assert all(s.endswith(".1") for s in suggested), suggested
    assert suggested == sorted(suggested, key=course_order.index)


def test_an_id_nothing_resembles_lists_every_id(cli: CliRunner) -> None:
    result = cli.invoke(app, ["hint", "nope"])
    assert result.exit_code == 2
    assert f"Known ids: {', '.join(e.id for e in ordered())}" in " ".join(result.output.split())


def test_reset_also_resets_the_hint_count(cli: CliRunner, stub_root: Path) -> None:
    for _ in range(2):
        cli.invoke(app, ["hint", "00.1"])
    assert Progress.load().hints["00.1"] == 2
    result = cli.invoke(app, ["reset", "00.1", "--yes"])
    assert result.exit_code == 0, result.output
    assert "its status and hints start afresh" in result.output
    assert "00.1" not in Progress.load().hints
    assert f"Hint 1/{len(HEALTH.hints)} for 00.1" in cli.invoke(app, ["hint", "00.1"]).output


def test_progress_shows_difficulty_and_an_estimated_time(cli: CliRunner) -> None:
    result = cli.invoke(app, ["progress"])
    assert result.exit_code == 0
    header = next(line for line in result.output.splitlines() if line.strip().startswith("id"))
    assert "difficulty" in header
    assert "time" in header
    row = next(line for line in result.output.splitlines() if line.strip().startswith("00.1"))
    stars = "★" * HEALTH.difficulty + "☆" * (3 - HEALTH.difficulty)
    assert stars in row
    assert learner.estimate(HEALTH.minutes) in row
    total = sum(e.minutes for e in ordered())
    assert f"About {learner.estimate(total)[1:]} of exercises left (estimates)." in result.output


def test_estimates_read_as_minutes_and_hours() -> None:
    assert learner.estimate(45) == "~45 min"
    assert learner.estimate(60) == "~1 h"
    assert learner.estimate(95) == "~1 h 35 min"


def test_solution_waits_for_a_recorded_pass(cli: CliRunner) -> None:
    refused = cli.invoke(app, ["solution", "00.1"])
    assert refused.exit_code == 1
    assert "shown once your exercise passes (now: not checked)" in refused.output
    assert "Run: course check 00.1" in refused.output
    assert "def " not in refused.output

    progress = Progress()
    progress.record("00.1", passed=3, total=5, ok=False)
    progress.save()
    assert "(now: failed)" in cli.invoke(app, ["solution", "00.1"]).output

    progress.record("00.1", passed=5, total=5, ok=True)
    progress.save()
    shown = cli.invoke(app, ["solution", "00.1"])
    assert shown.exit_code == 0, shown.output
    assert "reference solution (solutions/00_setup/health_check.py)" in shown.output
    assert (REPO_ROOT / HEALTH.solution).read_text() in shown.output


def test_solution_says_so_when_the_course_ships_without_solutions(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(learner, "SOLUTIONS", tmp_path / "solutions")
    progress = Progress()
    progress.record("00.1", passed=5, total=5, ok=True)
    progress.save()
    result = cli.invoke(app, ["solution", "00.1"])
    assert result.exit_code == 1
    assert "ships without solutions/ (your instructor keeps them)" in " ".join(
        result.output.split()
    )


def test_an_unusable_catalogue_is_reported_not_a_traceback(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every harness command turns a CatalogueError into its message and exit code 2."""
    message = "exercises.toml, [[exercise]] block 3 (id = \"03.1\"): missing key 'title' — add …"

    def broken() -> dict[str, Exercise]:
        raise CatalogueError(message)

    monkeypatch.setattr(harness_cli, "catalogue", broken)
    result = cli.invoke(app, ["hint", "03.1"])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
