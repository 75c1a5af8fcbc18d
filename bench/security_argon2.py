"""Argon2id cost against login latency and peak memory, at 1, 4 and 16 concurrent logins, as ratios
to the default parameters with one login — and the same 16 logins bounded by
:class:`~reference.security.passwords.PasswordWorkers`.

Run: ``uv run python -m bench.security_argon2``. Each cell runs in a fresh child process (peak RSS
only grows within a process, so one process per cell; ``ru_maxrss``, the kernel's high-water mark,
because sampling with psutil would miss short peaks); the child's own start-up RSS (same imports, no
hashing) is subtracted. Latency is the median time from a login's start to its answer, queueing
included; every child runs its logins twice and keeps the second round (the first warms up).
Taught in ``notebooks/07_security_passwords.ipynb`` §4. Writes ``bench/results/security_argon2.md``.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import argon2

RESULTS = Path(__file__).parent / "results" / "security_argon2.md"
DEFAULT = argon2.PasswordHasher()  # RFC 9106 low-memory profile: t=3, m=64 MiB, p=4


@dataclass(frozen=True)
class Cell:
    seconds: float  # median login latency
    peak_mib: float  # peak RSS above the child's start-up RSS


def _child(time_cost: int, memory_kib: int, concurrency: int, limit: int) -> None:
    """Runs in the child: ``concurrency`` logins at once (threads), bounded by ``limit`` (0: none)."""
    from reference.security.passwords import PasswordWorkers, verify_and_upgrade

    hasher = argon2.PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=4)
    start_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if concurrency == 0:
        print(json.dumps({"seconds": 0.0, "rss_kib": start_rss}))
        return
    stored = hasher.hash("pw")
    workers = PasswordWorkers(limit, hasher) if limit else None
    latencies: list[float] = []
    for _ in range(2):
        latencies.clear()
        barrier = threading.Barrier(concurrency)

        def one(barrier: threading.Barrier) -> None:
            barrier.wait()
            began = time.perf_counter()
            if workers is None:
                verify_and_upgrade(stored, "wrong", hasher)
            else:
                workers.verify_and_upgrade(stored, "wrong")
            latencies.append(time.perf_counter() - began)

        threads = [threading.Thread(target=one, args=(barrier,)) for _ in range(concurrency)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": statistics.median(latencies), "rss_kib": rss}))


def _run_child(*args: int) -> dict[str, float]:
    """``_child(*args)`` in a fresh interpreter; its JSON line."""
    out = subprocess.run(
        [sys.executable, "-m", "bench.security_argon2", "--child", *map(str, args)],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    ).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


def measure(time_cost: int, memory_kib: int, concurrency: int, limit: int = 0) -> Cell:
    """Median login latency and peak RSS above start-up for one configuration (two child processes)."""
    base = _run_child(time_cost, memory_kib, 0, 0)["rss_kib"]
    run = _run_child(time_cost, memory_kib, concurrency, limit)
    return Cell(run["seconds"], max(0.0, run["rss_kib"] - base) / 1024)


PARAMETERS = [(1, 65536), (3, 16384), (3, 65536), (3, 131072)]
CONCURRENCY = [1, 4, 16]


def main() -> None:
    argparse.ArgumentParser(description=__doc__).parse_args()
    cells: dict[tuple[int, int, int, int], Cell] = {}
    for time_cost, memory in PARAMETERS:
        for n in CONCURRENCY:
            cells[(time_cost, memory, n, 0)] = measure(time_cost, memory, n)
    for n in (4, 16):
        cells[(3, 65536, n, 2)] = measure(3, 65536, n, limit=2)
    ref = cells[(3, 65536, 1, 0)]
    rows = []
    for (time_cost, memory, n, limit), cell in cells.items():
        label = f"t={time_cost}, m={memory // 1024} MiB" + (
            " (default)" if (time_cost, memory) == (3, 65536) else ""
        )
        bound = f"PasswordWorkers({limit})" if limit else "none"
        rows.append(
            f"| {label} | {n} | {bound} | {cell.seconds * 1000:,.0f} | {cell.seconds / ref.seconds:.2f} "
            f"| {cell.peak_mib:,.0f} | {cell.peak_mib / ref.peak_mib:.1f} |"
        )
    un16, b16 = cells[(3, 65536, 16, 0)], cells[(3, 65536, 16, 2)]
    RESULTS.write_text(
        "# Argon2id: parameters × concurrency → login latency and peak memory\n\n"
        "Command: `uv run python -m bench.security_argon2`  \n"
        f"Setup: argon2-cffi {version('argon2-cffi')}, "
        f"Python {platform.python_version()}, {platform.machine()}, parallelism 4, one child process per row; "
        f"baseline: the default parameters, one login ({ref.seconds * 1000:,.0f} ms, {ref.peak_mib:,.0f} MiB).\n\n"
        "| parameters | concurrent logins | bound | median latency ms | × baseline | peak MiB | × baseline |\n"
        "|---|---:|---|---:|---:|---:|---:|\n" + "\n".join(rows) + "\n\n"
        f"Memory grows with the number of logins computing at once: 16 unbounded logins with the "
        f"default parameters peak at {un16.peak_mib / ref.peak_mib:.1f}× one login's memory, the same 16 "
        f"through `PasswordWorkers(2)` at {b16.peak_mib / ref.peak_mib:.1f}×. Median latency "
        f"{b16.seconds / ref.seconds:.1f}× bounded vs {un16.seconds / ref.seconds:.1f}× unbounded: the "
        "cores do the same work either way, the bound only stops 16 buffers from being allocated (and "
        "16 × 4 lanes from competing for the cores) at once. Time cost scales latency; memory cost "
        "scales both.\n"
    )
    print(RESULTS.read_text())


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--child":
        _child(*(int(a) for a in sys.argv[2:]))
    else:
        main()
