"""GraphQL under hostile load: how long an ordinary request waits while another client attacks.

Run: ``uv run python -m bench.graphql_hostile`` (PostgreSQL must be up). The reference GraphQL app
runs in its own process (uvicorn, as deployed); a probe client sends ``{ me { name } }`` one request
at a time and records its latency while another client sends one kind of request back to back:
nothing (idle), ordinary nested queries (the baseline: what any concurrent load costs), and the
hostile requests of issue 8 — a document of 60 KB of comment (the largest body accepted, parsed in
a worker thread), a 5 MB comment (refused by size, 413, before parsing; it used to hold the event
loop for ~5 s, so the probe waited as long) and fifteen aliases of ``users(100) × orders(100) ×
orders(100)`` (refused by the cost limit before any SQL; it used to return 4.5 MB after 25 s).
Scenarios run in interleaved rounds, so a busy machine slows all alike. Target: under every attack
the probe's p50 is ≤ 2× its p50 under ordinary load — a hostile request costs the others no more
than an ordinary one, within noise. Writes ``bench/results/graphql_hostile.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from reference.api_design.auth import Principal
from reference.api_design.graphql.seed import seed_users_with_orders
from reference.auth.authenticator import access_token_for
from reference.auth.keys import KeyRing, generate_key
from reference.auth.tokens import TokenIssuer
from reference.databases.migrate import upgrade
from reference.databases.models import UserRole
from reference.sandbox import fresh_postgres_database
from reference.setup.ports import free_port

RESULTS = Path(__file__).parent / "results" / "graphql_hostile.md"
PROBE = {"query": "{ me { name } }"}
BOMB = (
    "{ "
    + " ".join(
        f"a{i}: users(first: 100) {{ edges {{ node {{ orders(first: 100) {{ edges {{ node {{"
        " user { orders(first: 100) { edges { cursor } } } } } } } } }"
        for i in range(15)
    )
    + " }"
)
ORDINARY = (
    "{ users(first: 50) { edges { node { id name orders(first: 5) { edges { node { id } } } } } } }"
)
ATTACKS: dict[str, bytes | None] = {
    "nothing (idle)": None,
    "ordinary queries — baseline": json.dumps({"query": ORDINARY}).encode(),
    "60 KB comment (largest accepted)": json.dumps(
        {"query": "#" + "x" * 60_000 + "\n{ __typename }"}
    ).encode(),
    "5 MB comment (413)": json.dumps(
        {"query": "#" + "x" * 5_000_000 + "\n{ __typename }"}
    ).encode(),
    "15 aliases × 100³ (cost limit)": json.dumps({"query": BOMB}).encode(),
}
TARGET_RATIO = 2.0


@contextmanager
def server(database_url: str, issuer: TokenIssuer) -> Iterator[str]:
    """The app in a uvicorn process of its own, verifying ``issuer``'s tokens with its public
    JWKS (the private key stays in this process); its base URL once it answers."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "TOKEN_ISSUER": issuer.issuer,
        "TOKEN_AUDIENCE": issuer.audience,
        "TOKEN_JWKS": json.dumps(issuer.keys.jwks()),
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "reference.api_design.graphql.app:app_from_env",
        ],
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.post(f"{url}/graphql", json={"query": "{ __typename }"}, timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the GraphQL server did not start") from None
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(10)


@contextmanager
def attacking(url: str, body: bytes | None, headers: dict[str, str]) -> Iterator[None]:
    """Send ``body`` to the server back to back from another thread while the block runs."""
    stop = threading.Event()

    def attack() -> None:
        with httpx.Client(timeout=60) as client:
            while not stop.is_set():
                # A 413 may close the connection mid-upload.
                with contextlib.suppress(httpx.TransportError):
                    client.post(
                        f"{url}/graphql",
                        content=body,
                        headers={"content-type": "application/json", **headers},
                    )

    thread = threading.Thread(target=attack, daemon=True) if body is not None else None
    if thread is not None:
        thread.start()
        time.sleep(0.2)  # let the attack get going
    try:
        yield
    finally:
        stop.set()
        if thread is not None:
            thread.join(60)


def probe(url: str, token: str, requests: int) -> list[float]:
    samples = []
    with httpx.Client(timeout=60, headers={"Authorization": f"Bearer {token}"}) as client:
        for _ in range(requests):
            start = time.perf_counter()
            response = client.post(f"{url}/graphql", json=PROBE)
            samples.append(time.perf_counter() - start)
            if response.status_code != 200 or "errors" in response.json():
                raise RuntimeError(response.text)
    return samples


def measure(rounds: int, per_round: int) -> dict[str, list[float]]:
    database_url = fresh_postgres_database("bench_graphql_hostile")
    upgrade(database_url)
    seeded = seed_users_with_orders(database_url, users=60, orders_per_user=7)
    # The course's own EdDSA tokens; valid for an hour, longer than any run.
    issuer = TokenIssuer(
        KeyRing(generate_key()), "https://auth.course.test", "course-api", access_ttl=3600
    )
    token = access_token_for(issuer, Principal(seeded.user_ids[0], UserRole.USER))
    admin = access_token_for(
        issuer, Principal(seeded.admin_id, UserRole.ADMIN)
    )  # the attacker: staff
    latencies: dict[str, list[float]] = {name: [] for name in ATTACKS}
    with server(database_url, issuer) as url:
        probe(url, token, 20)  # warm up the pool
        for _ in range(rounds):
            for name, body in ATTACKS.items():
                with attacking(url, body, {"Authorization": f"Bearer {admin}"}):
                    latencies[name] += probe(url, token, per_round)
    return latencies


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def table(latencies: dict[str, list[float]]) -> str:
    names = list(ATTACKS)
    baseline = statistics.median(latencies[names[1]])
    lines = [
        f"Probe `{{ me {{ name }} }}`, {len(latencies[names[0]])} requests per scenario, one at a"
        " time, while another client sends the scenario's request back to back.",
        "",
        "| while the other client sends | probe p50 ms | probe p99 ms | p50 vs ordinary load |",
        "|---|---:|---:|---:|",
    ]
    worst = 0.0
    for name in names:
        p50 = statistics.median(latencies[name])
        if name not in names[:2]:
            worst = max(worst, p50 / baseline)
        lines.append(
            f"| {name} | {p50 * 1000:.1f} | {percentile(latencies[name], 0.99) * 1000:.1f}"
            f" | {p50 / baseline:.2f}× |"
        )
    lines += [
        "",
        f"Target: probe p50 under every attack ≤ {TARGET_RATIO:.1f}× under ordinary load —"
        f" {'met' if worst <= TARGET_RATIO else 'NOT met'} (worst {worst:.2f}×).",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--per-round", type=int, default=30)
    args = parser.parse_args()
    body = table(measure(args.rounds, args.per_round))
    print(body)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        "# GraphQL under hostile load\n\n"
        "Command: `uv run python -m bench.graphql_hostile`"
        f" (--rounds {args.rounds} --per-round {args.per_round})\n\n"
        f"Machine: {platform.platform()}, Python {platform.python_version()}; PostgreSQL on"
        " localhost.\n\n" + body + "\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
