"""How long the learner waits for ``course``: each command's wall time against a bare interpreter start.

Run: ``uv run python -m bench.cli_latency`` (the servers must be up: ``check`` probes them). Each round
runs ``python -c pass`` (the baseline: starting the interpreter and nothing else) and then every
command once, as separate processes, so a busy machine slows all of them alike; the table reports the
median seconds per command and the median of its per-round ratios to the baseline. Commands run the
way a learner types them — the ``course`` on ``PATH`` (``./dev setup``'s launcher), or this
environment's console script — with their progress in a temporary file (``COURSE_PROGRESS_FILE``), so
``hint`` never uses up one of your hints, and ``check 00.1`` grades a fresh copy of the stubs (a new
learner's first check; the tests fail fast) and, for comparison, the solutions (every test runs,
including three that wait out a 2 s client timeout by design). Targets on an idle 2-core machine:
``--help``, ``hint`` and ``progress`` ≤ 0.6 s, ``check 00.1`` ≤ 4 s.
Writes the table to ``bench/results/cli_latency.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from reference.config import REPO_ROOT

RESULTS = Path(__file__).parent / "results" / "cli_latency.md"
BASELINE = "python -c pass"


@dataclass(frozen=True)
class Command:
    label: str
    args: list[str]
    target_s: float | None
    expect: str  # text the output must contain, so a broken command is not timed as a fast one
    env: dict[str, str]


def course_executable() -> str:
    """The ``course`` a learner runs: the launcher on PATH, else this environment's console script."""
    return shutil.which("course") or str(Path(sys.executable).with_name("course"))


def commands(course: str, scratch: Path) -> list[Command]:
    stubs = scratch / "exercises"
    shutil.copytree(REPO_ROOT / "exercises", stubs, ignore=shutil.ignore_patterns("__pycache__"))
    progress = {"COURSE_PROGRESS_FILE": str(scratch / "progress.json")}
    return [
        Command(BASELINE, [sys.executable, "-c", "pass"], None, "", {}),
        Command("course --help", [course, "--help"], 0.6, "check", progress),
        Command("course hint 00.1", [course, "hint", "00.1"], 0.6, "Hint", progress),
        Command("course progress", [course, "progress"], 0.6, "00_setup", progress),
        Command(
            "course check 00.1 (stub)",
            [course, "check", "00.1"],
            4.0,
            "tests pass",
            {**progress, "COURSE_EXERCISES_ROOT": str(stubs)},
        ),
        Command(
            "course check 00.1 (solved)",
            [course, "check", "00.1"],
            None,
            "tests pass",
            {**progress, "COURSE_EXERCISES_ROOT": str(REPO_ROOT / "solutions")},
        ),
    ]


def timed(command: Command) -> float:
    start = time.perf_counter()
    done = subprocess.run(
        command.args,
        cwd=REPO_ROOT,
        env={**os.environ, **command.env},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    if command.expect not in done.stdout:
        raise RuntimeError(f"{command.label}: no {command.expect!r} in its output:\n{done.stdout}")
    return elapsed


def run(rounds: int) -> tuple[list[Command], dict[str, float], dict[str, float], str]:
    """(commands, median seconds, median ratio to the baseline, setup line)."""
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as scratch:
        chosen = commands(course_executable(), Path(scratch))
        for command in chosen:  # warm up: bytecode caches, page cache, the servers' first query
            timed(command)
        samples: dict[str, list[float]] = {c.label: [] for c in chosen}
        for _ in range(rounds):
            for command in chosen:
                samples[command.label].append(timed(command))
    base = samples[BASELINE]
    seconds = {label: statistics.median(values) for label, values in samples.items()}
    ratios = {
        label: statistics.median(v / b for v, b in zip(values, base, strict=True))
        for label, values in samples.items()
    }
    load_after = os.getloadavg()[0]
    setup = (
        f"`{course_executable()}`, Python {platform.python_version()}, {os.cpu_count()} cores, "
        f"{rounds} interleaved rounds after one warm-up, 1-minute load average "
        f"{load_before:.1f} before and {load_after:.1f} after"
    )
    if max(load_before, load_after) > 0.5 * (os.cpu_count() or 1):
        setup += (
            " — the machine was busy with other work, so the seconds are inflated against the"
            " idle-machine targets; the ratios travel better"
        )
    return chosen, seconds, ratios, setup


def table(
    chosen: list[Command],
    seconds: dict[str, float],
    ratios: dict[str, float],
    setup: str,
    command_line: str,
) -> str:
    lines = [
        "# `course` command latency: wall time against a bare interpreter start",
        "",
        f"Command: `{command_line}`  ",
        f"Setup: {setup}.  ",
        "Targets (idle 2-core machine): `--help`, `hint`, `progress` ≤ 0.6 s; `check 00.1` ≤ 4 s.",
        "",
        f"| command | median s | × `{BASELINE}` | target | verdict |",
        "|---|---:|---:|---:|---|",
    ]
    for command in chosen:
        value = seconds[command.label]
        target = f"≤ {command.target_s:g} s" if command.target_s is not None else "–"
        verdict = (
            "–"
            if command.target_s is None
            else ("meets" if value <= command.target_s else "**misses**")
        )
        lines.append(
            f"| `{command.label}` | {value:.2f} | {ratios[command.label]:.1f} | {target} | {verdict} |"
        )
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=7, help="timed runs per command")
    args = parser.parse_args(argv)
    chosen, seconds, ratios, setup = run(args.rounds)
    command_line = "uv run python -m bench.cli_latency" + (
        f" --rounds {args.rounds}" if args.rounds != 7 else ""
    )
    text = table(chosen, seconds, ratios, setup, command_line)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
