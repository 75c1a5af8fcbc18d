"""``course verify``: prove every exercise's grading tests are sound.

For each exercise: every grading test FAILS on the pristine stub, and for the right reason (the stub's
``NotImplementedError`` or an ``AssertionError`` — never an import error, a server that is down or a
timeout); every test PASSES on the solution; and every decoy (a deliberately wrong answer) fails at
least one test. Decoys run from a temporary copy of ``exercises/`` with the exercise file replaced.
Runs go two at a time (the course machines have two cores).
"""

from __future__ import annotations

import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

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


def _decoy_root(exercise: Exercise, decoy: str, scratch: Path) -> Path:
    root = scratch / Path(decoy).stem
    shutil.copytree(REPO_ROOT / "exercises", root, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copyfile(REPO_ROOT / decoy, root / exercise.relative_path)
    return root


def verify(
    exercises: list[Exercise], *, timeout: float = DEFAULT_TIMEOUT, workers: int = 2
) -> list[Verdict]:
    """Run stub, solution and decoys for every exercise (``workers`` runs at a time)."""
    with tempfile.TemporaryDirectory(prefix="course-verify-") as scratch_dir:
        scratch = Path(scratch_dir)
        jobs: list[tuple[Exercise, str, Path]] = []
        for exercise in exercises:
            jobs.append((exercise, "stub", REPO_ROOT / "exercises"))
            jobs.append((exercise, "solution", REPO_ROOT / "solutions"))
            for decoy in exercise.decoys:
                jobs.append((exercise, decoy, _decoy_root(exercise, decoy, scratch / exercise.id)))

        def run(job: tuple[Exercise, str, Path]) -> RunResult:
            return run_grading(job[0], job[2], timeout=timeout)

        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            results = list(pool.map(run, jobs))
    verdicts: dict[str, Verdict] = {}
    for (exercise, kind, _root), result in zip(jobs, results, strict=True):
        if kind == "stub":
            verdicts[exercise.id] = Verdict(exercise, stub=result, solution=result)
        elif kind == "solution":
            verdicts[exercise.id].solution = result
        else:
            verdicts[exercise.id].decoys[kind] = result
    return list(verdicts.values())
