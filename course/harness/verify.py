"""``course verify``: prove every exercise's grading tests are sound.

For each exercise: every grading test FAILS on the pristine stub, and for the right reason (the stub's
``NotImplementedError`` or an ``AssertionError`` — never an import error, a server that is down or a
timeout); every test PASSES on the solution; and every decoy (a deliberately wrong answer) fails at
least one test. Decoys run from a temporary copy of ``exercises/`` with the exercise file replaced.
Runs go two at a time (the course machines have two cores). A whole verify takes many minutes, so each
run is reported as it ends and each exercise's verdict as soon as its last run ends.

A decoy's docstring says which test catches it ("Caught by test_x"). Those tests run first, alone: one
of them failing is proof enough, and it skips the fixtures of every test before them. Only when none
of them fails (the docstring is stale, or names no test) does the decoy run against the whole file,
stopping at its first failure — so a wrong docstring costs time, never a wrong verdict.
"""

from __future__ import annotations

import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from course.harness.catalogue import named_catchers
from course.harness.loader import Exercise
from course.harness.runner import DEFAULT_TIMEOUT, RunResult, run_grading
from reference.config import REPO_ROOT

RIGHT_REASONS = ("NotImplementedError", "AssertionError")


@dataclass
class Verdict:
    exercise: Exercise
    stub: RunResult
    solution: RunResult
    decoys: dict[str, RunResult] = field(default_factory=dict)

    @property
    def stub_failures(self) -> int:
        return sum(t.failed_by(*RIGHT_REASONS) for t in self.stub.counted)

    @property
    def decoys_failing(self) -> int:
        return sum(r.passed < r.total or r.total == 0 or r.timed_out for r in self.decoys.values())

    def gaps(self) -> list[str]:
        """Every way the exercise falls short; empty when it is sound."""
        gaps: list[str] = []
        for label, run in (("stub", self.stub), ("solution", self.solution)):
            if run.timed_out:
                gaps.append(f"{label}: timed out after {run.seconds:.0f} s")
            if run.collect_error is not None:
                gaps.append(f"{label}: tests not collected: {run.collect_error.strip()[-400:]}")
        for test in self.stub.counted:
            if test.passed:
                gaps.append(f"stub passes {test.name}: that test cannot tell a stub from an answer")
            elif not test.failed_by(*RIGHT_REASONS):
                first = test.message.strip().splitlines()[0][:200] if test.message.strip() else ""
                gaps.append(
                    f"stub fails {test.name} for the wrong reason: {test.exc_type or test.outcome}"
                    f" ({first}); expected NotImplementedError or AssertionError"
                )
        for test in self.solution.counted:
            if not test.passed:
                first = test.message.strip().splitlines()[0][:200] if test.message.strip() else ""
                gaps.append(f"solution fails {test.name}: {test.exc_type or test.outcome} {first}")
        if self.stub.total != self.solution.total:
            gaps.append(f"stub ran {self.stub.total} tests but the solution {self.solution.total}")
        for decoy, run in self.decoys.items():
            if run.total and run.passed == run.total and not run.timed_out:
                gaps.append(f"decoy {Path(decoy).name} passes every test: add a test it fails")
        return gaps

    def line(self) -> str:
        n = self.stub.total
        return (
            f"{self.exercise.id:<5} stub fails {self.stub_failures}/{n} · "
            f"solution passes {self.solution.passed}/{self.solution.total} · "
            f"decoys fail {self.decoys_failing}/{len(self.decoys)}"
        )


@dataclass(frozen=True)
class Finished:
    """One run that just ended: which exercise, which answer, what it gave, and how far verify is."""

    exercise: Exercise
    answer: str  # "stub", "solution" or the decoy's path
    result: RunResult
    done: int
    total: int

    def line(self) -> str:
        """``00.1  decoy health_check__no_connection: caught by test_down · 4 s  [3/5]``."""
        label = (
            self.answer
            if self.answer in ("stub", "solution")
            else f"decoy {Path(self.answer).stem}"
        )
        run = self.result
        caught = run.first_failure
        if run.timed_out:
            state = "timed out"
        elif run.collect_error is not None:
            state = "not collected"
        elif label.startswith("decoy") and caught is not None:
            state = f"caught by {caught.name}"  # its run stopped there
        else:
            state = f"{run.passed}/{run.total} pass"
        progress = f"{run.seconds:.0f} s  [{self.done}/{self.total}]"
        return f"{self.exercise.id:<5} {label}: {state} · {progress}"


def run_decoy(exercise: Exercise, decoy: str, root: Path, timeout: float) -> RunResult:
    """The decoy's named catchers first; the whole file (to its first failure) if none fails."""
    catchers = named_catchers(exercise, decoy)
    if catchers:
        first = run_grading(
            exercise, root, timeout=timeout, stop_at_first_failure=True, only=catchers
        )
        if first.first_failure is not None or first.timed_out or first.collect_error is not None:
            return first
    return run_grading(exercise, root, timeout=timeout, stop_at_first_failure=True)


def _run(exercise: Exercise, answer: str, root: Path, timeout: float) -> RunResult:
    if answer in ("stub", "solution"):
        return run_grading(exercise, root, timeout=timeout)
    return run_decoy(exercise, answer, root, timeout)


def _decoy_root(exercise: Exercise, decoy: str, scratch: Path) -> Path:
    root = scratch / Path(decoy).stem
    shutil.copytree(REPO_ROOT / "exercises", root, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copyfile(REPO_ROOT / decoy, root / exercise.relative_path)
    return root


def verify(
    exercises: list[Exercise],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    workers: int = 2,
    on_run: Callable[[Finished], None] | None = None,
) -> Iterator[Verdict]:
    """Run stub, solution and decoys for every exercise (``workers`` runs at a time).

    ``on_run`` hears of every run as it ends; each exercise's verdict is yielded as soon as its last
    run ends, not after the whole course.
    """
    with tempfile.TemporaryDirectory(prefix="course-verify-") as scratch_dir:
        scratch = Path(scratch_dir)
        jobs: list[tuple[Exercise, str, Path]] = []
        for exercise in exercises:
            jobs.append((exercise, "stub", REPO_ROOT / "exercises"))
            jobs.append((exercise, "solution", REPO_ROOT / "solutions"))
            for decoy in exercise.decoys:
                jobs.append((exercise, decoy, _decoy_root(exercise, decoy, scratch / exercise.id)))
        left = Counter(exercise.id for exercise, _answer, _root in jobs)
        results: dict[str, dict[str, RunResult]] = {}
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            futures: dict[Future[RunResult], tuple[Exercise, str]] = {
                pool.submit(_run, exercise, answer, root, timeout): (exercise, answer)
                for exercise, answer, root in jobs
            }
            try:
                for done, future in enumerate(as_completed(futures), start=1):
                    exercise, answer = futures[future]
                    results.setdefault(exercise.id, {})[answer] = future.result()
                    if on_run is not None:
                        on_run(Finished(exercise, answer, future.result(), done, len(jobs)))
                    left[exercise.id] -= 1
                    if not left[exercise.id]:
                        yield _verdict(exercise, results.pop(exercise.id))
            finally:
                # Stopped early (Ctrl-C, a failed print): do not start the runs still queued.
                for future in futures:
                    future.cancel()


def _verdict(exercise: Exercise, runs: dict[str, RunResult]) -> Verdict:
    decoys = {decoy: runs[decoy] for decoy in exercise.decoys}  # catalogue order, not finish order
    return Verdict(exercise, stub=runs["stub"], solution=runs["solution"], decoys=decoys)
