"""GET-by-id latency of the reference users API, split into framework and database cost.

Run: ``uv run python -m bench.api_rest`` (PostgreSQL must be up). Three apps are served by uvicorn
in background threads on this machine and hit through real HTTP (httpx, keep-alive) at a fixed
concurrency, in interleaved rounds so a busy machine slows all alike:

* **bare** — a FastAPI endpoint returning a constant: the framework + HTTP floor (the baseline);
* **bare + PK select** — the same endpoint doing one primary-key ``SELECT`` on the same database
  through SQLAlchemy: the floor plus the database round trip;
* **reference** — ``GET /users/{id}`` of ``reference.api_design.app``: bearer auth, policy, the
  select with ``xmin``, pydantic serialisation, links from the router and a strong ETag.

The table reports p50/p99 and their ratios to the bare baseline, so the database's share and the
reference's own overhead read off separately. No target is asserted; the numbers are for reading.
Writes the table to ``bench/results/api_rest.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from reference.api_design.app import create_app
from reference.api_design.seed import CHEAP_HASHER, seed_cast, seed_users
from reference.config import to_sqlalchemy_url
from reference.databases.migrate import upgrade
from reference.databases.models import User
from reference.sandbox import fresh_postgres_database
from reference.setup.ports import free_port

RESULTS = Path(__file__).parent / "results" / "api_rest.md"
COMMAND = "uv run python -m bench.api_rest"


def bare_app() -> FastAPI:
    app = FastAPI()

    @app.get("/users/{user_id}")
    def constant(user_id: uuid.UUID) -> dict[str, Any]:
        return {"data": {"id": str(user_id), "name": "constant"}}

    return app


def select_app(database_url: str) -> FastAPI:
    engine = create_engine(to_sqlalchemy_url(database_url), pool_size=10)
    app = FastAPI()

    @app.get("/users/{user_id}")
    def by_id(user_id: uuid.UUID) -> dict[str, Any]:
        with Session(engine) as session:
            user = session.get(User, user_id)
            assert user is not None
            return {"data": {"id": str(user.id), "name": user.name}}

    return app


def serve(app: FastAPI) -> tuple[uvicorn.Server, str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.02)
    return server, f"http://127.0.0.1:{port}"


async def round_of(
    url: str, headers: dict[str, str], requests: int, concurrency: int
) -> list[float]:
    latencies: list[float] = []
    async with httpx.AsyncClient(headers=headers, timeout=30) as client:

        async def worker(count: int) -> None:
            for _ in range(count):
                start = time.perf_counter()
                response = await client.get(url)
                latencies.append(time.perf_counter() - start)
                assert response.status_code == 200, response.text

        per = requests // concurrency
        await asyncio.gather(*(worker(per) for _ in range(concurrency)))
    return latencies


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=800, help="per app per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()

    database_url = fresh_postgres_database("bench_api_rest")
    upgrade(database_url)
    cast = seed_cast(database_url)
    seed_users(database_url, 1000)
    target = cast.principals["bob"].user_id
    apps = {
        "bare FastAPI, constant (baseline)": (bare_app(), {}),
        "bare FastAPI + one PK SELECT": (select_app(database_url), {}),
        "reference GET /users/{id}": (
            create_app(
                database_url, authenticator=cast.authenticator, password_hasher=CHEAP_HASHER
            ),
            cast.headers("admin"),
        ),
    }
    servers = {name: (serve(app), headers) for name, (app, headers) in apps.items()}
    samples: dict[str, list[float]] = {name: [] for name in apps}
    for (_, base), headers in servers.values():  # warm-up: pools, caches
        asyncio.run(round_of(f"{base}/users/{target}", headers, 100, args.concurrency))
    for _ in range(args.rounds):
        for name, ((_, base), headers) in servers.items():
            samples[name] += asyncio.run(
                round_of(f"{base}/users/{target}", headers, args.requests, args.concurrency)
            )
    for (server, _), _headers in servers.values():
        server.should_exit = True

    base_p50 = pct(samples["bare FastAPI, constant (baseline)"], 50)
    base_p99 = pct(samples["bare FastAPI, constant (baseline)"], 99)
    lines = [
        "# GET-by-id: framework vs database vs reference overhead",
        "",
        f"Command: `{COMMAND}` (defaults: {args.requests} requests × {args.rounds} rounds per app, "
        f"concurrency {args.concurrency}, uvicorn in threads, httpx keep-alive, PostgreSQL on "
        "127.0.0.1). Python "
        f"{platform.python_version()} on {platform.machine()}.",
        "",
        "| app | requests | p50 ms | p99 ms | p50 × baseline | p99 × baseline |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, values in samples.items():
        p50, p99 = pct(values, 50), pct(values, 99)
        lines.append(
            f"| {name} | {len(values)} | {p50:.2f} | {p99:.2f} | "
            f"{p50 / base_p50:.2f} | {p99 / base_p99:.2f} |"
        )
    lines += [
        "",
        "Reading: row 2 / row 1 is what one database round trip costs on top of the framework; "
        "row 3 / row 2 is what the reference adds (auth, policy, xmin, serialisation, links, "
        "ETag). Client and server share one machine (and, in threads, one GIL), so absolute "
        "numbers are pessimistic; the ratios are the point.",
    ]
    table = "\n".join(lines) + "\n"
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(table)
    print(table)


if __name__ == "__main__":
    main()
