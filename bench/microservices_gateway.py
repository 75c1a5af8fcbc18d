"""The gateway's cost: p50/p99 of a request through Envoy vs the service asked directly.

Run: ``uv run python -m bench.microservices_gateway``. One upstream (the flaky upstream,
``reference.microservices.flaky``, healthy: uvicorn + Starlette) and a throwaway Envoy
(``reference.microservices.envoy``) with two routes to it: a plain proxy route, and the course's
edge route — JWT verified against the issuer's JWKS (Ed25519), the per-consumer rate limit (set high
enough never to refuse here), the retry policy and request-id generation. ``--requests`` sequential
keep-alive GETs per variant, interleaved for ``--rounds`` rounds; the table reports the median over
rounds of each p50/p99 and its ratio to the direct request of the same round (the gateway's overhead
factor: 1.0 would be free). Writes ``bench/results/microservices_gateway.md``. Taught beside
notebooks/04_microservices_gateway.ipynb.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import httpx

from course.testing.gateway import AUDIENCE, ISSUER, bearer, edge, gateway_issuer
from reference.microservices.envoy import envoy_version
from reference.microservices.flaky import serve_flaky
from reference.microservices.gateway import (
    JWT_FILTER,
    RATELIMIT_FILTER,
    idempotent_retries,
    jwt_authn,
    per_consumer_limit,
    require_jwt,
)

RESULTS = Path(__file__).parent / "results" / "microservices_gateway.md"


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure(
    client: httpx.Client, url: str, headers: dict[str, str], requests: int
) -> tuple[float, float]:
    samples = []
    for _ in range(requests):
        start = time.perf_counter()
        response = client.get(url, headers=headers)
        samples.append((time.perf_counter() - start) * 1000)
        response.raise_for_status()
    return percentile(samples, 0.5), percentile(samples, 0.99)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    if not 10 <= args.requests <= 100_000 or not 1 <= args.rounds <= 100:
        parser.error("--requests 10..100000, --rounds 1..100")

    issuer = gateway_issuer()
    token = bearer(issuer.access_token("bench", []))
    routes = [
        {"name": "plain", "match": {"prefix": "/plain"}, "route": {"cluster": "users"}},
        {
            "name": "edge",
            "match": {"path_separated_prefix": "/edge"},
            "route": {"cluster": "users", "timeout": "5s", "retry_policy": idempotent_retries()},
            "typed_per_filter_config": {
                JWT_FILTER: require_jwt(),
                RATELIMIT_FILTER: per_consumer_limit(1_000_000),
            },
        },
    ]
    jwt = jwt_authn(ISSUER, AUDIENCE, issuer.keys.jwks())
    with (
        serve_flaky() as upstream,
        edge(upstream.url, routes, jwt) as gateway,
        httpx.Client() as client,
    ):
        variants = {
            "service direct (baseline)": (f"{upstream.url}/direct", {}),
            "through Envoy, plain route": (f"{gateway.url}/plain", {}),
            "through Envoy, JWT + rate limit + retries": (f"{gateway.url}/edge", token),
        }
        for url, headers in variants.values():  # warm the connections
            client.get(url, headers=headers).raise_for_status()
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
        for _ in range(args.rounds):
            for name, (url, headers) in variants.items():
                results[name].append(measure(client, url, headers, args.requests))
        reached = upstream.hits()

    base = results["service direct (baseline)"]
    rows = []
    for name, per_round in results.items():
        p50 = statistics.median(r[0] for r in per_round)
        p99 = statistics.median(r[1] for r in per_round)
        ratio50 = statistics.median(r[0] / b[0] for b, r in zip(base, per_round, strict=True))
        ratio99 = statistics.median(r[1] / b[1] for b, r in zip(base, per_round, strict=True))
        rows.append(f"| {name} | {p50:.2f} | {p99:.2f} | {ratio50:.2f}× | {ratio99:.2f}× |")
    sent = len(variants) * (args.rounds * args.requests + 1)

    load = os.getloadavg()[0]
    text = "\n".join(
        [
            "# Envoy gateway vs the service directly (`uv run python -m bench.microservices_gateway`)",
            "",
            f"{args.requests} sequential keep-alive GETs per variant × {args.rounds} interleaved "
            f"rounds; medians over rounds; ratio = this variant's latency ÷ the direct request's "
            f"(same round). Upstream: reference.microservices.flaky (uvicorn); Envoy "
            f"{envoy_version()} on ephemeral ports, client httpx. {os.cpu_count()} cores, "
            f"load average {load:.1f}. Requests that reached the service: {reached} of {sent}.",
            "",
            "| variant | p50 ms | p99 ms | p50 ratio | p99 ratio |",
            "|---|---|---|---|---|",
            *rows,
            "",
        ]
    )
    RESULTS.write_text(text)
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
