"""Harness commands (check, watch, hint, reset, progress, grade, verify) and ``course notebooks``."""

from __future__ import annotations

import functools
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from course.harness import catalogue as catalogue_module
from course.harness import learner
from course.harness.loader import CatalogueError, Exercise, catalogue, exercises_root
from course.harness.progress import Progress
from course.harness.runner import DEFAULT_TIMEOUT, RunResult

notebooks_app = typer.Typer(help="Run and check the course notebooks.", no_args_is_help=True)


def _console() -> Console:
    return Console(highlight=False, soft_wrap=True)


def _fail(console: Console, message: str, code: int = 2) -> typer.Exit:
    console.print(f"[red]{escape(message)}[/]")
    return typer.Exit(code)


def _one(console: Console, exercise_id: str | None) -> Exercise:
    """The named exercise, or the first unfinished one."""
    if exercise_id is None:
        found = learner.current_exercise(Progress.load())
        if found is None:
            raise _fail(console, "every exercise passes already; name one to work on it again", 0)
        return found
    known = catalogue()
    if exercise_id not in known:
        raise _fail(
            console,
            f"no exercise {exercise_id!r}. {catalogue_module.did_you_mean(exercise_id).strip()}",
        )
    return known[exercise_id]


Timeout = Annotated[float, typer.Option(help="Seconds before one exercise's run is stopped.")]


def check(
    targets: Annotated[
        list[str] | None, typer.Argument(help="Exercise ids (00.1) or chapters (00_setup, 00).")
    ] = None,
    everything: Annotated[bool, typer.Option("--all", help="Check every exercise.")] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="List every failing test, not only the first.")
    ] = False,
    timeout: Timeout = DEFAULT_TIMEOUT,
) -> None:
    """Grade your exercises: the named ones, a chapter, --all, or (by default) the current one."""
    console = _console()
    if targets or everything:
        try:
            exercises = catalogue_module.select(targets or [], everything=everything)
        except catalogue_module.SelectionError as error:
            raise _fail(console, str(error)) from None
    else:
        exercises = [_one(console, None)]
    if not learner.check(console, exercises, timeout=timeout, verbose=verbose):
        raise typer.Exit(1)
    console.print()
    learner.print_next(console, exercises[-1])


def watch(
    exercise_id: Annotated[
        str | None, typer.Argument(help="Exercise id; default: the first unfinished.")
    ] = None,
    poll: Annotated[
        bool, typer.Option("--poll", help="No file events: re-check when you press Enter.")
    ] = False,
    timeout: Timeout = DEFAULT_TIMEOUT,
) -> None:
    """Re-check the current exercise every time you save (or press Enter)."""
    console = _console()
    if exercise_id is not None:
        _one(console, exercise_id)
    raise typer.Exit(
        learner.watch(console, exercise_id, poll=poll, stdin=sys.stdin, timeout=timeout)
    )


def hint(
    exercise_id: Annotated[
        str | None, typer.Argument(help="Exercise id; default: the first unfinished.")
    ] = None,
) -> None:
    """Show the next hint for an exercise (each call reveals one more)."""
    console = _console()
    learner.hint(console, _one(console, exercise_id))


def reset(
    exercise_id: Annotated[str, typer.Argument(help="Exercise id.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Throw away your work on an exercise: restore the stub as committed in git."""
    console = _console()
    exercise = _one(console, exercise_id)
    target = exercises_root() / exercise.relative_path
    if not yes and not typer.confirm(
        f"Overwrite {target} with the original stub? Your changes are lost."
    ):
        raise _fail(console, "not reset", 1)
    try:
        path = learner.reset(exercise)
    except learner.ResetError as error:
        raise _fail(console, str(error), 1) from None
    console.print(
        f"Restored {path} from git (HEAD:{exercise.stub}); its status and hints start afresh."
    )


def progress() -> None:
    """Show every chapter's progress and each exercise's status, difficulty and estimated time."""
    learner.show_progress(_console())


def solution(exercise_id: Annotated[str, typer.Argument(help="Exercise id.")]) -> None:
    """Show the reference solution of an exercise you have passed."""
    console = _console()
    exercise = _one(console, exercise_id)
    try:
        text = learner.solution_text(exercise)
    except learner.SolutionUnavailable as error:
        raise _fail(console, str(error), 1) from None
    # A plain line, not a rule: a rule truncates the path to the terminal's width.
    console.print(
        f"# {exercise.id} {escape(exercise.title)} — reference solution ({exercise.solution})"
    )
    console.print(text, markup=False, highlight=False, end="")


def grade(
    submissions: Annotated[
        list[Path],
        typer.Argument(
            help="One subfolder per student: their exercises/ (or a clone containing it). "
            "Or `merge OUT1 OUT2 …`: combine the outputs of --shard runs into --out.",
            show_default=False,
        ),
    ],
    out: Annotated[Path, typer.Option(help="Where grades.csv, junit/ and feedback/ go.")] = Path(
        "grades"
    ),
    timeout: Annotated[
        float, typer.Option(help="Seconds per student × exercise before it is killed.")
    ] = 60.0,
    jobs: Annotated[
        int, typer.Option("--jobs", "-j", "--workers", help="Jobs (student × exercise) at a time.")
    ] = 2,
    exercise_ids: Annotated[
        list[str] | None, typer.Option("--exercise", "-e", help="Grade only these ids or chapters.")
    ] = None,
    shard: Annotated[
        str, typer.Option(help="Grade slice i of N (i/N) of the students, e.g. one CI runner's.")
    ] = "1/1",
    trust_submissions: Annotated[
        bool,
        typer.Option(
            "--trust-submissions",
            help="Run hand-ins without the bubblewrap sandbox (only for code you trust).",
        ),
    ] = False,
) -> None:
    """Grade every student's hand-in in a sandbox; write grades.csv, JUnit XML and Markdown feedback."""
    from course.harness import grading

    console = _console()
    if submissions[0] == Path("merge") and not submissions[0].is_dir():
        try:
            names = grading.merge(submissions[1:], out)
        except (grading.MergeError, OSError) as error:
            raise _fail(console, f"cannot merge: {error}") from None
        console.print(f"Merged {len(submissions) - 1} shard(s), {len(names)} student(s) into {out}")
        return
    if len(submissions) != 1:
        raise _fail(console, "name one submissions folder (or `merge` and shard output folders)")
    folder = submissions[0]
    if not folder.is_dir():
        raise _fail(console, f"{folder} is not a folder")
    try:
        slice_ = grading.parse_shard(shard)
    except ValueError as error:
        raise _fail(console, f"--shard: {error}") from None
    try:
        exercises = catalogue_module.select(exercise_ids or [])
    except catalogue_module.SelectionError as error:
        raise _fail(console, str(error)) from None
    down = learner.reachable_or_started(console, (s for ex in exercises for s in ex.servers))
    if down:
        for problem in down.values():
            learner.print_unreachable(console, problem)
        raise _fail(console, "not grading: results would be wrong while a server is down", 1)

    def progress_line(student: str, result: RunResult, done: int, total: int) -> None:
        state = "timeout" if result.timed_out else f"{result.passed}/{result.total}"
        console.print(
            f"  {escape(student):<24} {result.exercise.id:<6} {state:<8} "
            f"{result.seconds:.0f} s  [{done}/{total}]"
        )

    students = grading.shard_of(grading.find_students(folder), slice_)
    console.print(
        f"Grading {len(students)} student(s) × {len(exercises)} exercise(s), "
        f"{jobs} at a time, up to {timeout:g} s each"
        + ("" if slice_ == (1, 1) else f", shard {shard}")
        + (", unsandboxed (--trust-submissions)" if trust_submissions else ", sandboxed"),
        style="dim",
    )
    try:
        report = grading.grade(
            folder,
            out,
            timeout=timeout,
            workers=jobs,
            exercises=exercises,
            on_result=progress_line,
            trust_submissions=trust_submissions,
            shard=slice_,
        )
    except grading.GradingRefused as error:
        raise _fail(console, f"not grading: {error}", 1) from None
    for warning in report.warnings:
        console.print(f"[yellow]warning: {escape(warning)}[/]")
    maximum = sum(report.maximum.values())
    for student in report.students:
        console.print(f"{student.name:<24} {student.total}/{maximum}")
    console.print(f"Wrote {out / 'grades.csv'}, {out / 'junit'}/ and {out / 'feedback'}/")


def verify(
    exercise_ids: Annotated[
        list[str] | None, typer.Argument(help="Ids or chapters; default: all.")
    ] = None,
    timeout: Timeout = DEFAULT_TIMEOUT,
    workers: Annotated[int, typer.Option(help="Runs at a time.")] = 2,
) -> None:
    """Prove each exercise's tests fail on the stub (for the right reason), pass on the solution,
    and catch every decoy."""
    from course.harness.verify import Finished
    from course.harness.verify import verify as run_verify

    console = _console()
    problems = catalogue_module.validate()
    if not problems:  # the blocks are readable: now the other direction, files without a block
        problems = catalogue_module.orphans(
            list(catalogue().values()), catalogue_module.course_files()
        )
    for text in problems:
        console.print(f"[red]catalogue: {escape(text)}[/]")
    try:
        exercises = catalogue_module.select(exercise_ids or [])
    except catalogue_module.SelectionError as error:
        raise _fail(console, str(error)) from None
    down = learner.reachable_or_started(console, (s for ex in exercises for s in ex.servers))
    for problem in down.values():
        learner.print_unreachable(console, problem)
    ok = not problems and not down
    runs = sum(2 + len(ex.decoys) for ex in exercises)
    console.print(
        f"Verifying {len(exercises)} exercise(s): {runs} runs, {workers} at a time, "
        f"up to {timeout:g} s each",
        style="dim",
    )
    started = time.monotonic()
    unsound: list[str] = []

    def run_line(finished: Finished) -> None:
        console.print(f"  … {escape(finished.line())}", style="dim")

    for verdict in run_verify(exercises, timeout=timeout, workers=workers, on_run=run_line):
        gaps = verdict.gaps()
        console.print(("[green]" if not gaps else "[red]") + escape(verdict.line()) + "[/]")
        for gap in gaps:
            console.print("      " + escape(gap).replace("\n", "\n      "), style="yellow")
        if gaps:
            unsound.append(verdict.exercise.id)
    elapsed = time.monotonic() - started
    verdict_text = f"{len(unsound)} with gaps ({', '.join(unsound)})" if unsound else "all sound"
    console.print(f"Verified {len(exercises)} exercise(s) in {elapsed:.0f} s: {verdict_text}")
    if not ok or unsound:
        raise typer.Exit(1)


@notebooks_app.command("run")
def notebooks_run(
    names: Annotated[list[str] | None, typer.Argument(help="Notebook names; default: all.")] = None,
    timeout: Annotated[int, typer.Option(help="Seconds per cell.")] = 300,
) -> None:
    """Re-execute notebooks in place in a fresh kernel of this environment, then normalise them."""
    from course.harness import notebooks

    console = _console()
    try:
        paths = notebooks.find_notebooks(names)
    except FileNotFoundError as error:
        raise _fail(console, str(error)) from None
    failed: list[str] = []
    everything = time.monotonic()
    for number, path in enumerate(paths, start=1):
        started = time.monotonic()
        try:
            console.print(
                f"running {path.name} ({notebooks.code_cells(path)} code cells) … "
                f"[{number}/{len(paths)}]",
                style="dim",
            )
            notebooks.execute(path, timeout=timeout)
        except Exception as error:  # noqa: BLE001 - report per notebook, go on with the others
            failed.append(path.name)
            console.print(
                f"[red]✘ {path.name}: {escape(type(error).__name__)}[/] "
                f"({time.monotonic() - started:.0f} s)"
            )
            console.print(escape(str(error).strip()[-3000:]))
        else:
            console.print(f"[green]✔ {path.name}[/] ({time.monotonic() - started:.0f} s)")
    outcome = f"{len(failed)} failed ({', '.join(failed)})" if failed else "all passed"
    console.print(
        f"Ran {len(paths)} notebook(s) in {time.monotonic() - everything:.0f} s: {outcome}"
    )
    if failed:
        raise typer.Exit(1)


@notebooks_app.command("check")
def notebooks_check(
    names: Annotated[list[str] | None, typer.Argument(help="Notebook names; default: all.")] = None,
) -> None:
    """Fail on stray metadata, error outputs, missing outputs or out-of-order execution counts."""
    from course.harness import notebooks

    console = _console()
    try:
        paths = notebooks.find_notebooks(names)
    except FileNotFoundError as error:
        raise _fail(console, str(error)) from None
    problems = [p for path in paths for p in notebooks.check(path)]
    for problem in problems:
        console.print(f"[red]✘ {escape(str(problem))}[/]")
    console.print(f"{len(paths)} notebook(s) checked, {len(problems)} problem(s)")
    if problems:
        raise typer.Exit(1)


def _catalogue_errors_explained(command: Callable[..., None]) -> Callable[..., None]:
    """Run ``command``; an unusable exercises.toml is reported as its messages, not a traceback."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> None:
        try:
            command(*args, **kwargs)
        except CatalogueError as error:
            console = _console()
            for line in str(error).splitlines():
                console.print(f"[red]{escape(line)}[/]")
            raise typer.Exit(2) from None

    return run


def register(app: typer.Typer) -> None:
    """Add the harness commands to the top-level ``course`` app."""
    for command in (check, watch, hint, reset, progress, solution, grade, verify):
        app.command()(_catalogue_errors_explained(command))
