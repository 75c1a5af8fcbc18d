"""Long steps are never silent: verify, grade and notebooks run report each piece as it ends.

The order of the lines is what is tested (no timings): each run's line, then the exercise's verdict as
soon as its last run ends — before the next exercise's runs — and a summary last.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
from pathlib import Path

import nbformat  # ships no annotations: each call below carries type: ignore[no-untyped-call]
from typer.testing import CliRunner

from course.cli import app
from course.harness.loader import catalogue
from course.harness.verify import Finished, verify
from reference.config import REPO_ROOT


def positions(output: str, *patterns: str) -> list[int]:
    """Where each regex first matches in ``output`` (in the order given); fails on a missing one."""
    found = []
    for pattern in patterns:
        match = re.search(pattern, output, flags=re.MULTILINE)
        assert match is not None, f"{pattern!r} not in:\n{output}"
        found.append(match.start())
    return found


def test_verify_yields_each_verdict_as_soon_as_its_exercise_is_done() -> None:
    """One run at a time: 01.1's two runs, then 01.1's verdict — before 06.4's first run ends."""
    first, second = (dataclasses.replace(catalogue()[i], decoys=()) for i in ("01.1", "06.4"))
    events: list[str] = []

    def heard(finished: Finished) -> None:
        events.append(
            f"run {finished.exercise.id} {finished.answer} {finished.done}/{finished.total}"
        )

    for verdict in verify([first, second], workers=1, on_run=heard):
        events.append(f"verdict {verdict.exercise.id}")
    assert events == [
        "run 01.1 stub 1/4",
        "run 01.1 solution 2/4",
        "verdict 01.1",
        "run 06.4 stub 3/4",
        "run 06.4 solution 4/4",
        "verdict 06.4",
    ]


def test_verify_prints_each_run_then_the_verdict_then_a_summary(cli: CliRunner) -> None:
    decoys = [Path(decoy).stem for decoy in catalogue()["01.1"].decoys]
    runs = 2 + len(decoys)
    result = cli.invoke(app, ["verify", "01.1", "--workers", "1"])
    assert result.exit_code == 0, result.output
    places = positions(
        result.output,
        rf"^Verifying 1 exercise\(s\): {runs} runs, 1 at a time",
        rf"01\.1\s+stub: 0/\d+ pass · \d+ s  \[1/{runs}\]",
        rf"01\.1\s+solution: (\d+)/\1 pass · \d+ s  \[2/{runs}\]",
        *(
            rf"01\.1\s+decoy {name}: caught by test_\S+ · \d+ s  \[{k}/{runs}\]"
            for k, name in enumerate(decoys, start=3)
        ),
        r"^01\.1\s+stub fails",
        r"^Verified 1 exercise\(s\) in \d+ s: all sound",
    )
    assert places == sorted(places)


def test_grade_reports_each_student_as_they_finish_then_the_totals(
    cli: CliRunner, tmp_path: Path
) -> None:
    """Two hand-ins of 01.1, graded one at a time: a numbered line per run, then the totals."""
    submissions = tmp_path / "submissions"
    for name, source in (("ann", "solutions"), ("ben", "exercises")):
        target = submissions / name / "01_api_design"
        target.mkdir(parents=True)
        shutil.copy(REPO_ROOT / source / "01_api_design" / "richardson_level.py", target)
    result = cli.invoke(
        app,
        ["grade", str(submissions), "--out", str(tmp_path / "out"), "-e", "01.1", "--workers", "1"],
    )
    assert result.exit_code == 0, result.output
    places = positions(
        result.output,
        r"^Grading 2 student\(s\) × 1 exercise\(s\), 1 at a time",
        r"^\s+ann\s+01\.1\s+(\d+)/\1\s+\d+ s  \[1/2\]",
        r"^\s+ben\s+01\.1\s+0/\d+\s+\d+ s  \[2/2\]",
        r"^ann\s+\d+/\d+$",
        r"^Wrote ",
    )
    assert places == sorted(places)


def test_notebooks_run_reports_each_notebook_with_its_time_then_a_summary(
    cli: CliRunner, tmp_path: Path
) -> None:
    paths = []
    for name, source in (("first", "print(1)"), ("second", "raise RuntimeError('on purpose')")):
        nb = nbformat.v4.new_notebook()  # type: ignore[no-untyped-call]
        nb.cells = [nbformat.v4.new_code_cell(source)]  # type: ignore[no-untyped-call]
        nbformat.write(nb, tmp_path / f"{name}.ipynb")  # type: ignore[no-untyped-call]
        paths.append(str(tmp_path / f"{name}.ipynb"))
    result = cli.invoke(app, ["notebooks", "run", *paths, "--timeout", "120"])
    assert result.exit_code == 1, result.output
    places = positions(
        result.output,
        r"^running first\.ipynb \(1 code cells\) … \[1/2\]",
        r"^✔ first\.ipynb \(\d+ s\)",
        r"^running second\.ipynb \(1 code cells\) … \[2/2\]",
        r"^✘ second\.ipynb: CellExecutionError \(\d+ s\)",
        r"^Ran 2 notebook\(s\) in \d+ s: 1 failed \(second\.ipynb\)",
    )
    assert places == sorted(places)
