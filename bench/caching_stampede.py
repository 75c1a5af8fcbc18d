"""Cache stampede: database calls per cold key, XFetch vs the lock under steady load, client-side hits.

Run: ``uv run python -m bench.caching_stampede`` (Redis and PostgreSQL up). Four measurements, each a
real PostgreSQL query per fetch and the course's Redis under a prefix of its own:

1. **Cold key**: ``--readers`` (50) threads released together on one cold key whose fetch is
   ``SELECT pg_sleep(0.3)``; database calls and the slowest reader's latency for no protection
   (check-then-set), the guide's ``StampedeProtectedCache`` and ``reference.caching.single_flight``;
   then a *missing* key (20 readers, 50 ms query), where the guide queries once per reader. Queries
   go through a pool of 20 connections, as an application's would.
   Medians over ``--rounds`` rounds; latency as a ratio to single flight in the same round.
2. **Steady load** (``reference.caching.xfetch.steady_load``): 10 readers, 3 s, 1 s TTL, 50 ms query:
   database calls, reads that waited for a query, reads served past their TTL — no protection,
   single flight, XFetch, XFetch with one refresher.
3. **Read latency**: a client-side cache hit (``reference.caching.client_side``, Redis tracking) vs a
   Redis GET vs a PostgreSQL primary-key SELECT, 2,000 reads each, interleaved rounds, medians; ratios
   to the local hit.
4. **Eviction**: hit ratio per ``maxmemory-policy`` and cache size (Zipf s=1 over 1,000 keys) on a
   throwaway redis-server.

Writes ``bench/results/caching_stampede.md``. Taught beside notebooks/06_caching_stampede.ipynb.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import redis
from sqlalchemy import Engine, create_engine, text

from guide.caching.stampede import StampedeProtectedCache
from guide.databases.redis_service import RedisService
from reference.caching.client_side import ClientSideCache
from reference.caching.eviction import POLICIES, EvictionBench, zipf_workload
from reference.caching.scratch_redis import ScratchRedis
from reference.caching.single_flight import SingleFlightCache
from reference.caching.xfetch import LoadResult, XFetchCache, steady_load
from reference.config import get_settings, to_sqlalchemy_url
from reference.sandbox import fresh_redis_prefix

RESULTS = Path(__file__).parent / "results" / "caching_stampede.md"


class Fetcher:
    def __init__(self, engine: Engine, seconds: float, result: Any) -> None:
        self.engine, self.seconds, self.result = engine, seconds, result
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self, *_: object) -> Any:
        with self._lock:
            self.calls += 1
        with self.engine.connect() as conn:
            conn.execute(text("SELECT pg_sleep(:s)"), {"s": self.seconds})
        return self.result


def slowest_of(n: int, call: Callable[[], Any]) -> float:
    """Release ``n`` threads together on ``call``; the slowest one's latency in seconds."""
    barrier = threading.Barrier(n)

    def one(_: int) -> float:
        barrier.wait()
        began = time.perf_counter()
        call()
        return time.perf_counter() - began

    with ThreadPoolExecutor(n) as pool:
        return max(pool.map(one, range(n)))


def cold_key_round(
    r: redis.Redis, prefix: str, engine: Engine, readers: int, n: int
) -> dict[str, tuple[int, float]]:
    """One round: strategy → (database calls, slowest reader in seconds)."""
    out: dict[str, tuple[int, float]] = {}
    value = {"id": 7, "name": "Ada"}

    fetch = Fetcher(engine, 0.3, value)
    key = f"{prefix}naive:{n}"

    def naive() -> Any:
        raw = r.get(key)
        if raw is not None:
            return json.loads(raw)
        v = fetch()
        r.set(key, json.dumps(v), ex=60)
        return v

    slowest = slowest_of(readers, naive)
    out["no protection"] = (fetch.calls, slowest)

    fetch = Fetcher(engine, 0.3, value)
    guide = StampedeProtectedCache(RedisService(r, key_prefix=prefix), f"guide{n}", 60, fetch)
    slowest = slowest_of(readers, lambda: guide.get("user:7"))
    out["guide lock"] = (fetch.calls, slowest)

    fetch = Fetcher(engine, 0.3, value)
    sf = SingleFlightCache(r, prefix=f"{prefix}sf{n}:")
    slowest = slowest_of(readers, lambda: sf.get_or_compute("user:7", fetch, 30))
    out["single flight"] = (fetch.calls, slowest)

    fetch = Fetcher(engine, 0.05, None)
    guide = StampedeProtectedCache(RedisService(r, key_prefix=prefix), f"gmiss{n}", 60, fetch)
    slowest = slowest_of(20, lambda: guide.get("user:404"))
    out["guide lock, missing key"] = (fetch.calls, slowest)

    fetch = Fetcher(engine, 0.05, None)
    slowest = slowest_of(20, lambda: sf.get_or_compute("user:404", fetch, 30))
    out["single flight, missing key"] = (fetch.calls, slowest)
    return out


def steady(r: redis.Redis, prefix: str, engine: Engine) -> dict[str, LoadResult]:
    ttl, query = 1.0, 0.05

    def fetch() -> str:
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_sleep(:s)"), {"s": query})
            return str(conn.execute(text("SELECT 'Ada'")).scalar_one())

    def naive(f: Callable[[], Any], key: str = prefix + "load:naive") -> Any:
        raw = r.get(key)
        if raw is not None:
            return json.loads(raw)
        v = f()
        r.set(key, json.dumps(v), px=int(ttl * 1000))
        return v

    sf = SingleFlightCache(r, prefix=prefix + "load:sf:", ttl_seconds=ttl)
    xf = XFetchCache(r, prefix=prefix + "load:xf:", ttl_seconds=ttl)
    xf1 = XFetchCache(r, prefix=prefix + "load:xf1:", ttl_seconds=ttl, single_refresher=True)
    strategies: dict[str, Callable[[Callable[[], Any]], Any]] = {
        "no protection": naive,
        "single flight (lock)": lambda f: sf.get_or_compute("k", f, 5),
        "XFetch": lambda f: xf.get("k", f).value,
        "XFetch + one refresher": lambda f: xf1.get("k", f).value,
    }
    return {
        name: steady_load(
            read, fetch, readers=10, seconds=3.0, ttl_seconds=ttl, fetch_seconds=query
        )
        for name, read in strategies.items()
    }


def read_latencies(r: redis.Redis, prefix: str, engine: Engine, rounds: int) -> dict[str, float]:
    """Median seconds per read: local hit, Redis GET, PostgreSQL SELECT by primary key."""
    url = get_settings().redis_url
    key = prefix + "csc:user:7"
    r.set(key, "Ada")
    samples: dict[str, list[float]] = {
        "client-side hit": [],
        "Redis GET": [],
        "PostgreSQL SELECT": [],
    }
    n = 2000

    def per_read(call: Callable[[], Any]) -> float:
        began = time.perf_counter()
        for _ in range(n):
            call()
        return (time.perf_counter() - began) / n

    with ClientSideCache(url) as local, engine.connect() as conn:
        conn.execute(text("CREATE TEMP TABLE bench_users (id int PRIMARY KEY, name text)"))
        conn.execute(text("INSERT INTO bench_users VALUES (7, 'Ada')"))
        local.get(key)
        select = text("SELECT name FROM bench_users WHERE id = 7")
        for _ in range(rounds):
            samples["client-side hit"].append(per_read(lambda: local.get(key)))
            samples["Redis GET"].append(per_read(lambda: r.get(key)))
            samples["PostgreSQL SELECT"].append(per_read(lambda: conn.execute(select).scalar_one()))
    return {name: statistics.median(values) for name, values in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--readers", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    r, prefix = fresh_redis_prefix("bench_caching_stampede")
    settings = get_settings()
    # An application's pool: fetches beyond 20 at once queue for a connection, as they would in
    # production (and the bench does not take the server's 100 connections from everyone else).
    engine = create_engine(to_sqlalchemy_url(settings.database_url), pool_size=20, max_overflow=0)

    rounds = [cold_key_round(r, prefix, engine, args.readers, n) for n in range(args.rounds)]
    steady_results = steady(r, prefix, engine)
    latency = read_latencies(r, prefix, engine, rounds=5)
    keys = zipf_workload(1000, 4000, seed=7)
    sizes = [50, 100, 200, 400]
    with ScratchRedis() as server, server.client() as client:
        eviction = EvictionBench(client).sweep(sizes, keys)
    engine.dispose()

    version = r.info("server")["redis_version"]
    load = os.getloadavg()[0]
    lines = [
        "# Cache stampede: database calls per cold key, XFetch vs the lock, client-side hits",
        "",
        "Command: `uv run python -m bench.caching_stampede`  ",
        f"Setup: Redis {version}, PostgreSQL (course server) on 127.0.0.1, Python "
        f"{platform.python_version()}, {os.cpu_count()} cores, load average {load:.1f} at the end.  ",
        "Target: exactly 1 database call per cold key across concurrent readers (the guide: 1 for a "
        "present row, N for a missing one).",
        "",
        f"## 1 · One cold key, {args.readers} readers released together (300 ms query); "
        "missing key: 20 readers, 50 ms query",
        "",
        f"Medians over {args.rounds} rounds; latency of the slowest reader as a ratio to single "
        "flight's in the same round.",
        "",
        "| strategy | database calls | slowest reader ÷ single flight |",
        "|---|---:|---:|",
    ]
    for name in rounds[0]:
        calls = statistics.median(rd[name][0] for rd in rounds)
        base = "single flight, missing key" if "missing" in name else "single flight"
        ratio = statistics.median(rd[name][1] / rd[base][1] for rd in rounds)
        lines.append(f"| {name} | {calls:g} | {ratio:.2f} |")
    lines += [
        "",
        "## 2 · Steady load: 10 readers, 3 s, 1 s TTL, 50 ms query (key warmed first)",
        "",
        "| strategy | reads | database calls | reads that waited for a query | served past TTL |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, res in steady_results.items():
        lines.append(f"| {name} | {res.reads:,} | {res.fetches} | {res.waited} | {res.stale} |")
    local_hit = latency["client-side hit"]
    lines += [
        "",
        "## 3 · One read: client-side hit vs Redis GET vs PostgreSQL SELECT",
        "",
        "2,000 sequential reads per variant per round, 5 interleaved rounds, medians.",
        "",
        "| read | median µs | ÷ client-side hit |",
        "|---|---:|---:|",
    ]
    for name, seconds in latency.items():
        lines.append(f"| {name} | {seconds * 1e6:,.1f} | {seconds / local_hit:,.0f} |")
    lines += [
        "",
        "## 4 · Eviction: hit ratio by policy and cache size (Zipf s=1, 1,000 keys, 4,000 reads)",
        "",
        "| policy | " + " | ".join(f"{s} keys" for s in sizes) + " |",
        "|---|" + "---:|" * len(sizes),
    ]
    by = {(x.policy, x.capacity_keys): x.hit_ratio for x in eviction}
    for policy in POLICIES:
        lines.append(f"| {policy} | " + " | ".join(f"{by[policy, s]:.2f}" for s in sizes) + " |")
    lines += [
        "",
        "Reading: the guide's lock already gives one call for a present row; a missing row costs one",
        "call per reader, queued behind each other's 100 ms retries (the slowest reader's latency).",
        "Under steady load the lock's price is readers waiting at every expiry; XFetch refreshes",
        "before the expiry so almost nobody waits, and one refresher (a SET NX flag) keeps it from",
        "refreshing concurrently. 'Served past TTL' counts reads that began after produced-at + TTL:",
        "the TTL starts at the SET, a moment after the query returned, so a read a few ms before",
        "Redis expires the key lands there; XFetch never gets that close to the expiry.",
    ]
    RESULTS.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
