"""How fast ``course grade`` gets through a class: jobs per minute, sandboxed vs not, 1 vs 2 at a time.

Run: ``uv run python -m bench.grading [--students 30] [--exercise 01.1 …]`` (the servers must be up).
A synthetic class — half the students hand in the stubs (their tests fail fast), half the solutions
(every test runs) — is graded four times through :func:`course.harness.grading.grade`: sandboxed
(bubblewrap) and ``--trust-submissions`` (unsandboxed), each with 1 and with 2 jobs at a time. The
table reports jobs per minute and two ratios measured in the same run: sandboxed ÷ unsandboxed
(the sandbox's cost) and 2 jobs ÷ 1 job (what a second core buys). From the sandboxed 2-job rate it
estimates a class of 200 × every exercise in the catalogue on one machine and on 10 shards. Writes
``bench/results/grading.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

from course.harness import catalogue, grading
from course.harness.loader import catalogue as all_exercises
from reference.config import REPO_ROOT

RESULTS = Path(__file__).parent / "results" / "grading.md"
DEFAULT_EXERCISES = ["01.1", "01.2", "01.3"]


def make_class(root: Path, students: int) -> Path:
    """``students`` folders alternating between a copy of the stubs and one of the solutions."""
    for number in range(students):
        source = REPO_ROOT / ("exercises" if number % 2 == 0 else "solutions")
        shutil.copytree(
            source,
            root / f"student{number:03d}" / "exercises",
            ignore=shutil.ignore_patterns("__pycache__", "*.toml"),
        )
    return root


def rate(submissions: Path, out: Path, ids: list[str], *, sandboxed: bool, jobs: int) -> float:
    """Jobs per minute for one grading of the whole class."""
    exercises = catalogue.select(ids)
    started = time.monotonic()
    report = grading.grade(
        submissions, out, workers=jobs, exercises=exercises, trust_submissions=not sandboxed
    )
    elapsed = time.monotonic() - started
    done = sum(len(s.results) for s in report.students)
    return done / elapsed * 60


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--exercise", action="append", dest="exercises")
    args = parser.parse_args()
    ids = args.exercises or DEFAULT_EXERCISES
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as scratch:
        submissions = make_class(Path(scratch) / "class", args.students)
        rates = {
            (sandboxed, jobs): rate(
                submissions,
                Path(scratch) / f"out-{sandboxed}-{jobs}",
                ids,
                sandboxed=sandboxed,
                jobs=jobs,
            )
            for sandboxed in (True, False)
            for jobs in (1, 2)
        }
    whole = len(all_exercises())
    class_jobs = 200 * whole
    best = rates[(True, 2)]
    one_machine_h = class_jobs / best / 60
    lines = [
        "# `course grade`: jobs per minute",
        "",
        f"`uv run python -m bench.grading --students {args.students}"
        + "".join(f" --exercise {i}" for i in ids)
        + f"` · {args.students} students × {len(ids)} exercises = {args.students * len(ids)} jobs per "
        f"grading · half stubs, half solutions · {platform.machine()}, Python "
        f"{platform.python_version()} · load average {os.getloadavg()[0]:.1f} on "
        f"{os.cpu_count()} cores at the end (other work shares the machine)",
        "",
        "| | 1 job at a time | 2 jobs at a time | 2 ÷ 1 |",
        "|---|---|---|---|",
    ]
    for sandboxed, label in (
        (True, "sandboxed (bubblewrap)"),
        (False, "unsandboxed (--trust-submissions)"),
    ):
        one, two = rates[(sandboxed, 1)], rates[(sandboxed, 2)]
        lines.append(f"| {label} | {one:.1f} jobs/min | {two:.1f} jobs/min | {two / one:.2f} |")
    lines += [
        f"| sandboxed ÷ unsandboxed | {rates[(True, 1)] / rates[(False, 1)]:.2f} | "
        f"{rates[(True, 2)] / rates[(False, 2)]:.2f} | |",
        "",
        f"Estimate for a class of 200 × all {whole} exercises ({class_jobs} jobs) at the sandboxed "
        f"2-job rate: {one_machine_h:.1f} h on one machine, {one_machine_h / 10:.1f} h on 10 shards "
        "(each shard also pays its own setup and the per-exercise collection run). The rate depends "
        "on the exercises measured and on the machine's load; the ratios, measured in the same run, "
        "carry over better than the rates.",
        "",
    ]
    RESULTS.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
