"""Circuit breaker overhead: per call vs a bare call, and what a breaker's lock costs concurrent callers.

Run: ``uv run python -m bench.microservices_breaker`` (no course servers: a flaky upstream is started
in-process). Three measurements, each a ratio to the bare call measured in the same run:

1. **In-process**: a no-op function called bare, through :class:`reference.microservices.breaker.
   CircuitBreaker`, through ``pybreaker`` and through the guide's opossum port (which runs every call
   on a worker thread to race it against its timer). Median ns per call over interleaved rounds.
2. **One HTTP GET** to the flaky upstream on loopback, bare vs through our breaker vs pybreaker:
   the breaker's cost next to a real call.
3. **Concurrent callers**: 8 threads × ``--calls`` GETs against an upstream that takes 20 ms; wall
   time bare vs ours vs pybreaker. pybreaker holds one lock around each whole call, so its callers
   queue behind each other; ours locks only to decide and to record.

Writes ``bench/results/microservices_breaker.md``. Taught beside notebooks/04_microservices_resilience.ipynb.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pybreaker

from guide.microservices.breaker import OpossumBreaker
from reference.microservices.breaker import BreakerConfig, CircuitBreaker
from reference.microservices.flaky import serve_flaky

RESULTS = Path(__file__).parent / "results" / "microservices_breaker.md"


def per_call_ns(call: Callable[[], Any], n: int) -> float:
    began = time.perf_counter_ns()
    for _ in range(n):
        call()
    return (time.perf_counter_ns() - began) / n


def interleaved(variants: dict[str, Callable[[], Any]], n: int, rounds: int) -> dict[str, float]:
    """Median per-call ns of each variant, the variants taking turns round by round."""
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(rounds):
        for name, call in variants.items():
            samples[name].append(per_call_ns(call, n))
    return {name: statistics.median(values) for name, values in samples.items()}


def concurrent_seconds(call: Callable[[], Any], threads: int, calls: int) -> float:
    barrier = threading.Barrier(threads + 1)

    def worker() -> None:
        barrier.wait()
        for _ in range(calls):
            call()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    barrier.wait()
    began = time.perf_counter()
    for t in pool:
        t.join()
    return time.perf_counter() - began


def breakers() -> tuple[CircuitBreaker, pybreaker.CircuitBreaker]:
    return CircuitBreaker(BreakerConfig(volume=20)), pybreaker.CircuitBreaker(fail_max=20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=10, help="GETs per thread in part 3")
    args = parser.parse_args()

    def noop() -> None:
        return None

    ours, theirs = breakers()
    opossum = OpossumBreaker(noop)
    in_process = interleaved(
        {
            "bare call": noop,
            "ours": lambda: ours.call(noop),
            "pybreaker": lambda: theirs.call(noop),
            "guide (opossum port)": lambda: opossum.fire(),
        },
        n=2_000,
        rounds=args.rounds,
    )
    opossum.shutdown()

    with serve_flaky() as upstream, httpx.Client(base_url=upstream.url) as http:

        def get() -> Any:
            return http.get("/users/1").raise_for_status()

        ours, theirs = breakers()
        one_get = interleaved(
            {
                "bare GET": get,
                "ours": lambda: ours.call(get),
                "pybreaker": lambda: theirs.call(get),
            },
            n=100,
            rounds=args.rounds,
        )
        upstream.set_faults(latency=0.02)
        ours, theirs = breakers()
        walls = {
            "bare GET": concurrent_seconds(get, 8, args.calls),
            "ours": concurrent_seconds(lambda: ours.call(get), 8, args.calls),
            "pybreaker": concurrent_seconds(lambda: theirs.call(get), 8, args.calls),
        }

    load = os.getloadavg()[0]
    lines = [
        "# Circuit breaker overhead: per call vs a bare call; concurrent callers",
        "",
        "Command: `uv run python -m bench.microservices_breaker`  ",
        f"Setup: Python {platform.python_version()}, {os.cpu_count()} cores, flaky upstream "
        f"(uvicorn) on 127.0.0.1, load average {load:.1f} at the end.  ",
        "Target: a breaker's bookkeeping is noise next to a network call (ratio ≈ 1 for one GET), "
        "and it does not serialise concurrent callers.",
        "",
        f"## 1 · In-process: a no-op call (median of {args.rounds} interleaved rounds × 2,000 calls)",
        "",
        "| variant | ns per call | ÷ bare call |",
        "|---|---:|---:|",
    ]
    base = in_process["bare call"]
    lines += [f"| {k} | {v:,.0f} | {v / base:,.1f} |" for k, v in in_process.items()]
    lines += [
        "",
        f"## 2 · One HTTP GET on loopback (median of {args.rounds} rounds × 100 GETs)",
        "",
        "| variant | µs per call | ÷ bare GET |",
        "|---|---:|---:|",
    ]
    base = one_get["bare GET"]
    lines += [f"| {k} | {v / 1000:,.0f} | {v / base:.2f} |" for k, v in one_get.items()]
    lines += [
        "",
        f"## 3 · 8 threads × {args.calls} GETs, upstream latency 20 ms",
        "",
        "| variant | wall seconds | ÷ bare |",
        "|---|---:|---:|",
    ]
    base = walls["bare GET"]
    lines += [f"| {k} | {v:.2f} | {v / base:.1f} |" for k, v in walls.items()]
    lines += [
        "",
        "Reading: our breaker adds a lock, a clock read and a bucket increment per call — a few",
        "microseconds, invisible next to a loopback GET. (Its first version kept every outcome of",
        "the window in a deque and summed it per call: ~500 µs per call at this rate, 9,000× a bare",
        "call — this benchmark found it; the window is now 10 buckets with running totals.) The guide's opossum port pays a thread",
        "hand-off per call (opossum races a promise against a timer; in Python that is a worker",
        "thread), and still cannot abort a timed-out call. pybreaker's overhead per call is as small,",
        "but its one lock is held across the call itself: concurrent callers of one dependency take",
        "turns, which is why part 3 takes about threads × calls × latency through it.",
    ]
    RESULTS.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
