"""nginx as a shared cache: latency of a cache HIT vs a pass-through vs the origin asked directly.

Run: ``uv run python -m bench.caching_nginx`` (nginx installed: ``course services up nginx``). A
throwaway nginx with the course's rules (``reference.caching.nginx``) in front of the counting origin
(``reference.caching.origin``), whose answer takes ``--work-ms`` (a modest database query) or nothing
at all (pure proxy overhead). For each, ``--requests`` sequential keep-alive GETs per variant,
interleaved for ``--rounds`` rounds: the origin directly (the baseline), through nginx with
``no-store`` (pass-through: every request proxied), and through nginx on a cached path (HIT). The
table reports the median over rounds of each p50/p99 and the ratio to the direct baseline of the same
round; the origin's call count proves the HITs never reached it. Writes
``bench/results/caching_nginx.md``. Taught beside notebooks/06_caching_http.ipynb §3.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import httpx

from reference.caching.nginx import throwaway_nginx
from reference.caching.origin import counting_origin

RESULTS = Path(__file__).parent / "results" / "caching_nginx.md"


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure(client: httpx.Client, url: str, requests: int) -> tuple[float, float]:
    samples = []
    for _ in range(requests):
        start = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - start) * 1000)
        response.raise_for_status()
    return percentile(samples, 0.5), percentile(samples, 0.99)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--work-ms", type=int, default=20)
    args = parser.parse_args(argv)
    if args.requests < 10 or args.rounds < 1 or not 0 <= args.work_ms <= 1000:
        parser.error("--requests ≥ 10, --rounds ≥ 1, --work-ms 0..1000")

    rows: list[str] = []
    with counting_origin() as origin, throwaway_nginx(origin.url) as edge, httpx.Client() as client:
        for work_ms in (0, args.work_ms):
            delay = f"&delay={work_ms / 1000}" if work_ms else ""
            variants = {
                "origin direct (baseline)": f"{origin.url}/direct{work_ms}?cc=no-store{delay}",
                "nginx pass-through (no-store)": f"{edge}/pass{work_ms}?cc=no-store{delay}",
                "nginx HIT (s-maxage=300)": f"{edge}/hit{work_ms}?cc=public,+s-maxage%3D300{delay}",
            }
            client.get(variants["nginx HIT (s-maxage=300)"]).raise_for_status()  # fill the cache
            results: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
            for _ in range(args.rounds):
                for name, url in variants.items():
                    results[name].append(measure(client, url, args.requests))
            base = results["origin direct (baseline)"]
            for name, per_round in results.items():
                p50 = statistics.median(r[0] for r in per_round)
                p99 = statistics.median(r[1] for r in per_round)
                ratio50 = statistics.median(
                    b[0] / r[0] for b, r in zip(base, per_round, strict=True)
                )
                ratio99 = statistics.median(
                    b[1] / r[1] for b, r in zip(base, per_round, strict=True)
                )
                rows.append(
                    f"| {work_ms} ms | {name} | {p50:.2f} | {p99:.2f} | {ratio50:.2f}× | {ratio99:.2f}× |"
                )
            hits = origin.count(f"/hit{work_ms}")
            rows.append(
                f"| {work_ms} ms | origin calls for {args.rounds * args.requests + 1} cached requests | {hits} | | | |"
            )

    load = os.getloadavg()[0]
    text = "\n".join(
        [
            "# nginx HIT vs pass-through vs origin (`uv run python -m bench.caching_nginx`)",
            "",
            f"{args.requests} sequential keep-alive GETs per variant × {args.rounds} interleaved rounds; "
            f"medians over rounds; speed-up = direct origin latency ÷ this variant's (same round). "
            f"Origin: reference.caching.origin (Python ThreadingHTTPServer); nginx 1.22 with the course's "
            f"rules on an ephemeral port. {os.cpu_count()} cores, load average {load:.1f}.",
            "",
            "| origin work | variant | p50 ms | p99 ms | p50 speed-up | p99 speed-up |",
            "|---|---|---|---|---|---|",
            *rows,
            "",
        ]
    )
    RESULTS.write_text(text)
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
