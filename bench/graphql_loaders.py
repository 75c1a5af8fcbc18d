"""GraphQL N+1 vs DataLoader: statements and latency of the nested users → orders query.

Run: ``uv run python -m bench.graphql_loaders`` (PostgreSQL must be up). Both variants execute the
SAME reference schema and SQL on the same seeded database (61 users × 7 orders) through one async
engine; the only difference is the loaders' ``max_batch_size``: batches of up to 100 (the reference)
vs ``max_batch_size=1``, which turns every ``load`` into its own query — the N+1 a resolver without
a loader runs. Requests run at a fixed concurrency in interleaved rounds, so a busy machine slows
both alike; the table reports statements per request and p50/p99 latency, with ratios to the N+1
baseline. Target: ≤ 3 statements per request and p50 ≥ 2× faster than the baseline (the statement
count is exact; latency also pays for strawberry's CPU work, identical in both variants, so on a
loaded machine the speed-up is smaller than the 25× fewer round trips suggest). Writes the table to
``bench/results/graphql_loaders.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import sys
import time
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from strawberry.dataloader import DataLoader

from reference.api_design.auth import Principal
from reference.api_design.graphql.app import make_engine, make_sessions
from reference.api_design.graphql.context import Context
from reference.api_design.graphql.loaders import Loaders, load_orders, load_users, make_loaders
from reference.api_design.graphql.schema import schema
from reference.api_design.graphql.seed import seed_users_with_orders
from reference.api_design.graphql.statements import count_statements
from reference.databases.migrate import upgrade
from reference.databases.models import UserRole
from reference.sandbox import fresh_postgres_database

RESULTS = Path(__file__).parent / "results" / "graphql_loaders.md"
NESTED = (
    "{ users(first: 50) { edges { node { id name orders(first: 5) {"
    " edges { node { id status totalCents } } } } } } }"
)
TARGET_STATEMENTS = 3
TARGET_SPEEDUP = 2.0


def unbatched_loaders(sessions: async_sessionmaker[AsyncSession]) -> Loaders:
    """The same batch functions, one key per call: what N+1 looks like."""
    return Loaders(
        users=DataLoader(load_fn=lambda keys: load_users(sessions, keys), max_batch_size=1),
        orders=DataLoader(load_fn=lambda keys: load_orders(sessions, keys), max_batch_size=1),
    )


VARIANTS = {
    "N+1 (max_batch_size=1) — baseline": unbatched_loaders,
    "DataLoader (reference)": make_loaders,
}


async def one_request(
    sessions: async_sessionmaker[AsyncSession], url: str, principal: Principal, variant: str
) -> float:
    ctx = Context(
        sessions=sessions, listen_url=url, principal=principal, loaders=VARIANTS[variant](sessions)
    )
    start = time.perf_counter()
    result = await schema.execute(NESTED, context_value=ctx)
    elapsed = time.perf_counter() - start
    if result.errors:
        raise RuntimeError(result.errors)
    return elapsed


async def statements_per_request(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], url: str, principal: Principal
) -> dict[str, int]:
    counts = {}
    for variant in VARIANTS:
        with count_statements(engine) as log:
            await one_request(sessions, url, principal, variant)
        counts[variant] = log.count
    return counts


async def measure(
    concurrency: int, rounds: int, per_round: int
) -> tuple[dict[str, int], dict[str, list[float]]]:
    url = fresh_postgres_database("bench_graphql_loaders")
    upgrade(url)
    seeded = seed_users_with_orders(url, users=60, orders_per_user=7)
    principal = Principal(seeded.admin_id, UserRole.ADMIN)
    engine = make_engine(url)
    sessions = make_sessions(engine)
    latencies: dict[str, list[float]] = {v: [] for v in VARIANTS}
    try:
        for variant in VARIANTS:  # warm up pool and caches
            await one_request(sessions, url, principal, variant)
        counts = await statements_per_request(engine, sessions, url, principal)
        semaphore = asyncio.Semaphore(concurrency)

        async def limited(variant: str) -> float:
            async with semaphore:
                return await one_request(sessions, url, principal, variant)

        for _ in range(rounds):
            for variant in VARIANTS:
                results = await asyncio.gather(*(limited(variant) for _ in range(per_round)))
                latencies[variant] += results
    finally:
        await engine.dispose()
    return counts, latencies


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def table(counts: dict[str, int], latencies: dict[str, list[float]], concurrency: int) -> str:
    baseline = next(iter(VARIANTS))
    base_p50 = statistics.median(latencies[baseline])
    base_p99 = percentile(latencies[baseline], 0.99)
    lines = [
        f"Nested query `users(first: 50) {{ … orders(first: 5) }}`, concurrency {concurrency}, "
        f"{len(latencies[baseline])} requests per variant.",
        "",
        "| variant | statements / request | statements vs baseline | p50 ms | p99 ms |"
        " p50 speed-up vs baseline | p99 speed-up vs baseline |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for variant in VARIANTS:
        p50 = statistics.median(latencies[variant])
        p99 = percentile(latencies[variant], 0.99)
        lines.append(
            f"| {variant} | {counts[variant]} | {counts[variant] / counts[baseline]:.2f}×"
            f" | {p50 * 1000:.1f} | {p99 * 1000:.1f} |"
            f" {base_p50 / p50:.1f}× | {base_p99 / p99:.1f}× |"
        )
    reference = list(VARIANTS)[1]
    speedup = base_p50 / statistics.median(latencies[reference])
    ok = counts[reference] <= TARGET_STATEMENTS and speedup >= TARGET_SPEEDUP
    lines += [
        "",
        f"Target: ≤ {TARGET_STATEMENTS} statements per request and p50 ≥ {TARGET_SPEEDUP:.0f}× the"
        f" baseline — {'met' if ok else 'NOT met'}"
        f" ({counts[reference]} statements, {speedup:.1f}×).",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--per-round", type=int, default=20)
    args = parser.parse_args()
    counts, latencies = asyncio.run(measure(args.concurrency, args.rounds, args.per_round))
    body = table(counts, latencies, args.concurrency)
    print(body)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        "# GraphQL: N+1 vs DataLoader\n\n"
        "Command: `uv run python -m bench.graphql_loaders`"
        f" (--concurrency {args.concurrency} --rounds {args.rounds} --per-round {args.per_round})\n\n"
        f"Machine: {platform.platform()}, Python {platform.python_version()}; PostgreSQL on"
        " localhost.\n\n" + body + "\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
