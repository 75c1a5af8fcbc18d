"""What the chapter-08 metrics middleware costs per request, against the same app without it.

Run: ``uv run python -m bench.observability_metrics`` (no server needed). Two measurements:

* **in process** — each app is called directly as an ASGI callable (no sockets), so the numbers are
  the middleware's own cost: the demo's routers without metrics (the baseline), + the guide's
  prom-client port (``guide/observability/metrics.py``), + the reference middleware
  (``reference/observability/metrics.py``: route matching before the app, a task watching for
  disconnects, four metrics), for a mounted route (``/api/users/7``) and a 404. Requests are
  interleaved one by one across the apps so a busy machine slows every app alike. ``receive`` answers
  the request once and then waits, as a server's does until the client leaves.
* **over the wire** — the same app without and with the reference middleware, served by uvicorn,
  httpx keep-alive.

Reports medians (p50) and p99 in microseconds and the ratios to the baseline; nothing is asserted.
Writes ``bench/results/observability_metrics.md``. (prometheus-fastapi-instrumentator is not a
dependency of the course, so it is not compared.)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import time
from pathlib import Path

import httpx
from fastapi import FastAPI
from starlette.types import ASGIApp, Message

from guide.observability.metrics import MetricsMiddleware
from reference.api_design.graphql.background import serve_in_background
from reference.observability.metrics import instrument

RESULTS = Path(__file__).parent / "results" / "observability_metrics.md"
COMMAND = "uv run python -m bench.observability_metrics"
TOKEN = "bench-Qx8vB2mR7zLw4pYc9nHs6dJf3gKa"  # noqa: S105 - a throwaway token for in-process apps


def shop() -> FastAPI:
    users, orders, app = FastAPI(), FastAPI(), FastAPI()

    @users.get("/{user_id}")
    async def user(user_id: str) -> dict[str, str]:
        return {"id": user_id}

    @orders.get("/{order_id}")
    async def order(order_id: str) -> dict[str, str]:
        return {"id": order_id}

    app.mount("/api/users", users)
    app.mount("/api/orders", orders)
    return app


def apps() -> dict[str, ASGIApp]:
    guide = shop()
    guide.add_middleware(MetricsMiddleware)
    fixed = shop()
    instrument(fixed, "bench", token=TOKEN)
    return {"no metrics (baseline)": shop(), "guide port": guide, "reference middleware": fixed}


async def call(app: ASGIApp, path: str) -> int:
    status = 0
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()  # a server answers http.disconnect only when the client leaves
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"bench")],
        "client": ("127.0.0.1", 40000),
        "server": ("bench", 80),
    }
    await app(scope, receive, send)
    return status


async def in_process(path: str, requests: int, rounds: int) -> dict[str, list[float]]:
    targets = apps()
    samples: dict[str, list[float]] = {name: [] for name in targets}
    for name, app in targets.items():  # warm-up: route compilation, label children created
        for i in range(50):
            assert await call(app, path.format(i=i)) in (200, 404), name
    for i in range(rounds * requests):
        for name, app in targets.items():
            start = time.perf_counter_ns()
            await call(
                app, path.format(i=i % 50)
            )  # 50 distinct 404 paths: the guide's series stay bounded here
            samples[name].append((time.perf_counter_ns() - start) / 1000)
    return samples


def over_the_wire(requests: int, rounds: int) -> dict[str, list[float]]:
    bare, fixed = shop(), shop()
    instrument(fixed, "bench", token=TOKEN)
    servers = {
        "no metrics (baseline)": serve_in_background(bare),
        "reference middleware": serve_in_background(fixed),
    }
    samples: dict[str, list[float]] = {name: [] for name in servers}
    clients = {name: httpx.Client(base_url=s.url) for name, s in servers.items()}
    try:
        for client in clients.values():
            client.get("/api/users/1").raise_for_status()
        for i in range(rounds * requests):
            for name, client in clients.items():
                start = time.perf_counter_ns()
                client.get(f"/api/users/{i}")
                samples[name].append((time.perf_counter_ns() - start) / 1000)
    finally:
        for client in clients.values():
            client.close()
        for server in servers.values():
            server.stop()
    return samples


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1]


def table(samples: dict[str, list[float]], unit_note: str) -> list[str]:
    names = list(samples)
    base50 = statistics.median(samples[names[0]])
    base99 = p(samples[names[0]], 99)
    lines = [
        f"| {unit_note} | requests | p50 µs | p99 µs | p50 × baseline | p99 × baseline |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name in names:
        values = samples[name]
        p50, p99 = statistics.median(values), p(values, 99)
        lines.append(
            f"| {name} | {len(values)} | {p50:.0f} | {p99:.0f} | {p50 / base50:.2f} | {p99 / base99:.2f} |"
        )
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--requests", type=int, default=2000, help="per app per round, in process")
    parser.add_argument("--wire-requests", type=int, default=300, help="per app per round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    found = asyncio.run(in_process("/api/users/{i}", args.requests, args.rounds))
    missing = asyncio.run(in_process("/no/such/{i}", args.requests, args.rounds))
    wire = over_the_wire(args.wire_requests, args.rounds)
    load = os.getloadavg()[0]
    text = "\n".join(
        [
            "# Metrics middleware: overhead per request vs the same app without metrics",
            "",
            f"Command: `{COMMAND}` (defaults: {args.requests} × {args.rounds} requests per app in "
            f"process; {args.wire_requests} × {args.rounds} per app over the wire; interleaved "
            "request by request). "
            f"Python {platform.python_version()} on {platform.machine()}, load average {load:.1f} "
            f"on {os.cpu_count()} cores.",
            "",
            "## In process, a mounted route (GET /api/users/{i})",
            "",
            *table(found, "app"),
            "",
            "## In process, a 404 (GET /no/such/{i}, 50 distinct paths)",
            "",
            *table(missing, "app"),
            "",
            "## Over the wire (uvicorn in a thread, httpx keep-alive)",
            "",
            *table(wire, "app"),
            "",
            "Reading: the rows are ratios to the same routers without metrics, measured in the same",
            "run. The reference middleware matches the routes once more before the app does (a regex",
            "per route, per mount level), starts one task per request to notice a client leaving, and",
            "updates four metrics; the guide's port also starts a watcher task but labels from the",
            "scope afterwards. Over the wire the HTTP round trip dominates, so the ratio there is what",
            "a service pays. Client and server share the machine (and, in threads, the GIL): absolute",
            "numbers move with the load; the ratios are the point.",
            "",
        ]
    )
    RESULTS.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
