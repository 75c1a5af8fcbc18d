"""What the learner runs: check, watch, hint, reset, progress and solution.

``check`` first makes sure the servers an exercise needs answer (a probe with a real client), then runs
the exercise's grading tests in a subprocess and shows, per exercise, how many tests pass and the first
failing test's docstring and message (``--verbose``: every failing test), followed by a progress bar
per chapter and, after a pass, the next exercise and its command. A file that does not parse is shown
as Python's error with its line and a caret, without running the tests (their failures would all be
that one error, shown under whichever test came first). ``solution`` shows the reference answer only
once the exercise has passed, and says so when the course ships without ``solutions/``.
"""

from __future__ import annotations

import queue
import subprocess
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TextIO

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from course.harness.catalogue import chapters, ordered
from course.harness.loader import PROBED_VARIABLE, Exercise, catalogue, exercises_root
from course.harness.progress import Progress
from course.harness.runner import DEFAULT_TIMEOUT, RunResult, TestOutcome, run_grading
from course.services.autostart import may_start
from reference.config import REPO_ROOT, get_settings

PROBE_TIMEOUT = 3.0
# Where `course solution` reads reference answers. An instructor may ship the course without it.
SOLUTIONS = REPO_ROOT / "solutions"


@dataclass(frozen=True)
class Unreachable:
    server: str
    url: str
    error: str

    @property
    def command(self) -> str:
        return f"course services up {self.server}"


def unreachable_servers(servers: Iterable[str]) -> dict[str, Unreachable]:
    """Probe each server once with its real client (the registry's one probe path); return the ones
    that did not answer."""
    from reference.setup.servers import probe

    down: dict[str, Unreachable] = {}
    settings = get_settings()
    for server in dict.fromkeys(servers):
        url = settings.url_for(server)
        try:
            probe(server, url, PROBE_TIMEOUT)
        except Exception as error:  # noqa: BLE001 - any failure means "not reachable"
            down[server] = Unreachable(server, url, f"{type(error).__name__}: {error}"[:300])
    return down


def reachable_or_started(console: Console, servers: Iterable[str]) -> dict[str, Unreachable]:
    """:func:`unreachable_servers`, after starting those the fixtures would start themselves
    (:func:`course.services.autostart.may_start`: Keycloak always, any server unless
    ``COURSE_AUTOSTART=0``). Started here, by the command itself: a server a grading run started
    would be killed with the run's leftovers when it ended, and started again by the next run."""
    down = unreachable_servers(servers)
    startable = [name for name in down if may_start(name)]
    if not startable:
        return down
    from course.services.base import ServiceError
    from course.services.launcher import Launcher

    console.print(f"starting {', '.join(startable)} (needed by these exercises) …", style="dim")
    try:
        Launcher(progress=lambda line: console.print(f"  {escape(line)}", style="dim")).up(
            startable
        )
    except ServiceError as error:
        console.print(f"[red]could not start {', '.join(startable)}:[/] {escape(str(error))}")
    return {
        **{n: p for n, p in down.items() if n not in startable},
        **unreachable_servers(startable),
    }


def print_unreachable(console: Console, problem: Unreachable) -> None:
    console.print(f"[red]✘ {problem.server} is not reachable[/] at {escape(problem.url)}")
    console.print(f"  ({escape(problem.error)})", style="dim")
    console.print(f"  Start it with:  [bold]{problem.command}[/]")


def explain(test: TestOutcome) -> str:
    """The failure message a learner should read first."""
    if test.failed_by("NotImplementedError"):
        return "NotImplementedError: this part is still the stub — replace its `# TODO:` body"
    if test.outcome in ("timeout", "not run"):
        return test.message
    message = test.message.strip()
    kind = test.exc_type or test.outcome
    if kind == "AssertionError" or message.startswith(kind):
        return message
    return f"{kind}: {message}"


def print_failure(console: Console, failure: TestOutcome, heading: str) -> None:
    """One failing test: its name, its docstring (what it checks) and the message to read first."""
    console.print(f"  {heading}: [bold]{escape(failure.name)}[/]")
    if failure.doc:
        console.print("  " + escape(failure.doc).replace("\n", "\n  "), style="cyan")
    lines = explain(failure).splitlines()
    shown = "\n".join(lines[:12]) + ("\n…" if len(lines) > 12 else "")
    console.print("  " + escape(shown).replace("\n", "\n  "), style="yellow")


def print_result(console: Console, result: RunResult, *, verbose: bool = False) -> None:
    exercise = result.exercise
    head = f"{exercise.id}  {escape(exercise.title)}"
    count = f"{result.passed}/{result.total} tests pass"
    if result.ok:
        console.print(f"[green]✔ {head}[/]  {count}")
        return
    console.print(f"[red]✘ {head}[/]  {count}")
    if result.collect_error is not None:
        console.print("  The grading tests could not be collected:", style="yellow")
        console.print("  " + escape(result.collect_error.strip()[-1500:]).replace("\n", "\n  "))
        return
    if result.timed_out:
        console.print(
            "  Stopped at the time limit: look for an infinite loop or a call that waits forever."
        )
    failure = result.first_failure
    if (
        failure is None
    ):  # pragma: no cover - ok is False only with a failure, timeout or collect error
        return
    if verbose:
        failures = [t for t in result.tests if t.counted and not t.passed]
        for number, test in enumerate(failures, start=1):
            print_failure(console, test, f"Failing test {number}/{len(failures)}")
    else:
        print_failure(console, failure, "First failing test")
        if result.total - result.passed > 1:
            console.print("  (course check --verbose lists every failing test)", style="dim")
    console.print(f"  Your file: {exercises_root() / exercise.relative_path}", style="dim")


def syntax_error(exercise: Exercise) -> SyntaxError | None:
    """Python's complaint about the learner's file, if it does not parse (None when it does, or is
    missing: the grading run reports a missing file itself)."""
    path = exercises_root() / exercise.relative_path
    try:
        source = path.read_bytes()
    except OSError:
        return None
    try:
        compile(source, str(path), "exec", dont_inherit=True)
    except SyntaxError as error:  # IndentationError and TabError are SyntaxErrors too
        return error
    return None


def print_syntax_error(console: Console, exercise: Exercise, error: SyntaxError) -> None:
    """``File …, line N``, the line itself and a caret under the column Python stopped at."""
    console.print(
        f"[red]✘ {exercise.id}  {escape(exercise.title)}[/]  your file does not parse: no test ran"
    )
    console.print(f'  File "{escape(str(error.filename))}", line {error.lineno}', style="dim")
    text = (error.text or "").rstrip("\n")
    if text.strip():
        indent = len(text) - len(text.lstrip())
        column = max((error.offset or 1) - 1 - indent, 0)
        console.print("    " + escape(text.strip()))
        console.print("    " + " " * column + "^", style="red")
    console.print(f"  {type(error).__name__}: {escape(error.msg)}", style="yellow")


def bar(done: int, total: int, width: int = 30) -> str:
    """``[██████░░░░]``: readable in a terminal, a log file and a test's captured output alike."""
    filled = round(width * done / total) if total else 0
    return f"[green]{'█' * filled}[/][dim]{'░' * (width - filled)}[/]"


def render_progress(
    console: Console, progress: Progress, only: Iterable[str] | None = None
) -> None:
    """A ``[bar] X/Y`` line per chapter (all chapters, or those named in ``only``)."""
    wanted = set(only) if only is not None else None
    table = Table.grid(padding=(0, 2))
    for slug, exercises in chapters().items():
        if wanted is not None and slug not in wanted:
            continue
        done = sum(progress.is_done(ex.id) for ex in exercises)
        table.add_row(slug, bar(done, len(exercises)), f"{done}/{len(exercises)}")
    console.print(table)


def check(
    console: Console,
    exercises: list[Exercise],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    verbose: bool = False,
) -> bool:
    """Check servers, grade each exercise, record progress; True when every exercise passes."""
    down = reachable_or_started(console, (server for ex in exercises for server in ex.servers))
    for problem in down.values():
        print_unreachable(console, problem)
    progress = Progress.load()
    all_ok = True
    root = exercises_root()
    for exercise in exercises:
        broken = syntax_error(exercise)
        if broken is not None:
            all_ok = False
            previous = progress.exercises.get(exercise.id, {}).get("total", 0)
            progress.record(exercise.id, passed=0, total=int(previous), ok=False)
            progress.save()
            print_syntax_error(console, exercise, broken)
            continue
        missing = [s for s in exercise.servers if s in down]
        if missing:
            all_ok = False
            console.print(
                f"[yellow]– {exercise.id}  {escape(exercise.title)}[/]  not checked: needs {', '.join(missing)}"
            )
            continue
        # The servers just answered: the grading run need not import every client to probe again.
        probed = {PROBED_VARIABLE: ",".join(exercise.servers)}
        result = run_grading(exercise, root, timeout=timeout, env=probed)
        progress.record(exercise.id, passed=result.passed, total=result.total, ok=result.ok)
        progress.save()
        print_result(console, result, verbose=verbose)
        all_ok &= result.ok
    console.print()
    render_progress(console, progress, {ex.chapter for ex in exercises})
    return all_ok


def current_exercise(progress: Progress) -> Exercise | None:
    """The first exercise, in catalogue order, that has not passed yet."""
    return next((ex for ex in ordered() if not progress.is_done(ex.id)), None)


def next_exercise(progress: Progress, after: Exercise) -> Exercise | None:
    """The first unfinished exercise after ``after`` in course order, else the first unfinished one."""
    course = ordered()
    later = course[course.index(after) + 1 :] if after in course else []
    return next((ex for ex in later if not progress.is_done(ex.id)), current_exercise(progress))


def print_next(console: Console, after: Exercise, command: str = "check") -> None:
    """After a pass: ``Next: 01.2 Title — course check 01.2`` (or that every exercise passes)."""
    nxt = next_exercise(Progress.load(), after)
    if nxt is None:
        console.print("[green]Every exercise passes.[/]")
    else:
        console.print(f"Next: {nxt.id} {escape(nxt.title)} — course {command} {nxt.id}")


def estimate(minutes: int) -> str:
    """``~45 min`` or ``~1 h 30 min``."""
    hours, rest = divmod(minutes, 60)
    return (
        f"~{hours} h {rest} min" if hours and rest else f"~{hours} h" if hours else f"~{rest} min"
    )


def show_progress(console: Console) -> None:
    progress = Progress.load()
    render_progress(console, progress)
    console.print()
    table = Table(
        "id", "chapter", "title", "difficulty", "time", "status", "tests", "hints", box=None
    )
    for exercise in ordered():
        status = progress.status(exercise.id)
        style = {"passed": "green", "failed": "red"}.get(status, "dim")
        entry = progress.exercises.get(exercise.id, {})
        tests = f"{entry['passed']}/{entry['total']}" if entry else "–"
        hints = f"{progress.hints.get(exercise.id, 0)}/{len(exercise.hints)}"
        table.add_row(
            exercise.id,
            exercise.chapter,
            escape(exercise.title),
            "★" * exercise.difficulty + "☆" * (3 - exercise.difficulty),
            estimate(exercise.minutes),
            f"[{style}]{status}[/]",
            tests,
            hints,
        )
    console.print(table)
    left = sum(ex.minutes for ex in ordered() if not progress.is_done(ex.id))
    nxt = current_exercise(progress)
    if nxt is not None:
        console.print(f"\nAbout {estimate(left)[1:]} of exercises left (estimates).")
        console.print(
            f"Next: {nxt.id} {escape(nxt.title)} — {nxt.stub}.  Run: course check {nxt.id}"
        )
    else:
        console.print("\nEvery exercise passes.")


def hint(console: Console, exercise: Exercise) -> None:
    progress = Progress.load()
    index = progress.next_hint(exercise.id, len(exercise.hints))
    progress.save()
    console.print(
        f"[bold]Hint {index + 1}/{len(exercise.hints)}[/] for {exercise.id} ({escape(exercise.title)}):"
    )
    console.print("  " + escape(exercise.hints[index]))
    if index + 1 == len(exercise.hints):
        console.print("  (that is the last hint)", style="dim")


class ResetError(RuntimeError):
    """The stub could not be restored (no git, or not committed)."""


def original_stub(exercise: Exercise) -> bytes:
    """The stub as committed: ``git show HEAD:<stub>``."""
    try:
        shown = subprocess.run(
            ["git", "show", f"HEAD:{exercise.stub}"],
            cwd=REPO_ROOT,
            capture_output=True,
            check=False,
        )
    except (
        FileNotFoundError
    ) as error:  # pragma: no cover - git is part of the course's requirements
        raise ResetError("git is not installed") from error
    if shown.returncode != 0:
        raise ResetError(f"git has no committed {exercise.stub}: {shown.stderr.decode().strip()}")
    return shown.stdout


def reset(exercise: Exercise) -> str:
    """Overwrite the learner's file with the committed stub and forget its status and the hints
    shown (the next hint is the first again); return the path."""
    content = original_stub(exercise)
    target = exercises_root() / exercise.relative_path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content)
    progress = Progress.load()
    progress.forget(exercise.id)
    progress.save()
    return str(target)


def watch(
    console: Console,
    exercise_id: str | None,
    *,
    poll: bool,
    stdin: TextIO,
    timeout: float = DEFAULT_TIMEOUT,
) -> int:
    """Re-check the current exercise whenever a file changes (or Enter is pressed).

    With an id, watch that exercise until it passes, then end with the next exercise's command;
    without one, move on to the next unfinished exercise each time one passes. Each check redraws
    the screen (clears it first) on a terminal; piped or captured output is appended, so it stays
    readable in a log and a test. ``poll`` skips file events: Enter re-checks, ``q`` quits.
    """
    events: queue.Queue[str] = queue.Queue()
    stop = threading.Event()

    def read_stdin() -> None:
        for line in iter(stdin.readline, ""):
            events.put("quit" if line.strip().lower() in ("q", "quit") else "enter")
        events.put("eof")

    def watch_files() -> None:
        from watchfiles import PythonFilter
        from watchfiles import watch as watch_paths

        for _changes in watch_paths(exercises_root(), watch_filter=PythonFilter(), stop_event=stop):
            events.put("change")

    closed = False
    threading.Thread(target=read_stdin, daemon=True).start()
    if not poll:
        threading.Thread(target=watch_files, daemon=True).start()
    try:
        while True:
            progress = Progress.load()
            exercise = catalogue()[exercise_id] if exercise_id else current_exercise(progress)
            if exercise is None:
                console.print("[green]Every exercise passes.[/]")
                return 0
            console.clear()  # rich clears only a terminal: a pipe or a test keeps every check
            console.rule(f"{exercise.id} {escape(exercise.title)}")
            if check(console, [exercise], timeout=timeout):
                print_next(console, exercise, "watch")
                if exercise_id:
                    return 0
                continue
            how = (
                "press Enter to re-check" if poll else "save the file (or press Enter) to re-check"
            )
            console.print(f"\nWatching {exercise.stub}: {how}, q + Enter to quit.", style="dim")
            while True:
                if poll and closed and events.empty():
                    return 1  # no more input and no file events: nothing can trigger a check
                event = events.get()
                if event == "quit":
                    return 1
                if event == "eof":
                    closed = True
                    continue
                break
            while not events.empty():  # coalesce a burst of saves into one check
                event = events.get_nowait()
                if event == "quit":
                    return 1
                closed |= event == "eof"
    finally:
        stop.set()


class SolutionUnavailable(RuntimeError):
    """The reference solution cannot be shown (yet); the message says why and what to do."""


def solution_text(exercise: Exercise) -> str:
    """The reference solution, only once the learner's exercise has passed (a recorded pass)."""
    path = SOLUTIONS / exercise.relative_path
    if not SOLUTIONS.is_dir():
        raise SolutionUnavailable(
            f"This copy of the course ships without solutions/ (your instructor keeps them), so "
            f"there is no reference answer for {exercise.id} to show. Your passing file is the answer."
        )
    progress = Progress.load()
    if not progress.is_done(exercise.id):
        raise SolutionUnavailable(
            f"The reference solution for {exercise.id} is shown once your exercise passes "
            f"(now: {progress.status(exercise.id)}). Run: course check {exercise.id}"
            f" — stuck? course hint {exercise.id}"
        )
    if not path.is_file():
        raise SolutionUnavailable(f"solutions/ has no {exercise.relative_path}")
    return path.read_text()
