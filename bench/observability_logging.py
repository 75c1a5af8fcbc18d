"""Logging overhead per event and per request, and shipping throughput into OpenSearch.

Run: ``uv run python -m bench.observability_logging`` (needs the course's OpenSearch,
``OPENSEARCH_URL``). Three measurements, each a ratio to a baseline measured in the same run:

1. **Per event, in-process**: one log call with three fields, written to a null stream — stdlib
   ``logging`` with a JSON formatter (the baseline), the guide's Winston port (console + two dated
   files), the reference structlog chain (JSON, redaction, contextvars) and the same with the
   OpenSearch shipper as its sink (``submit`` only: the sending happens on the shipper's thread).
   Median µs per event over interleaved rounds.
2. **Per request**: a Starlette app on uvicorn answering ``GET /work`` with no logging, with stdlib
   logging (two lines), and with the request-id middleware + two reference lines + the access line.
   Median ms per request over interleaved rounds (one keep-alive client).
3. **Shipping**: documents per second into OpenSearch through the batched shipper (bulk requests
   of 500) vs one index request per document.

Writes ``bench/results/observability_logging.md``. Taught beside notebooks/08_observability_logs.ipynb.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from course.testing.logs import opensearch_client
from course.testing.resources import unique_name
from guide.observability.logger import Log, create_logger
from reference.api_design.graphql.background import serve_in_background
from reference.config import get_settings
from reference.observability import logstore
from reference.observability.logging import make_logger
from reference.observability.request_id import RequestIdMiddleware
from reference.observability.shipper import Shipper

RESULTS = Path(__file__).parent / "results" / "observability_logging.md"


NULL = open(os.devnull, "w")  # noqa: SIM115 - one sink for the whole run


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "fields", {})
        return json.dumps({"level": record.levelname, "event": record.getMessage(), **fields})


def stdlib_logger(name: str) -> logging.Logger:
    logger = logging.getLogger(name)
    logger.handlers.clear()
    handler = logging.StreamHandler(NULL)
    handler.setFormatter(JsonFormatter())
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return logger


def per_call_us(call: Callable[[], Any], n: int) -> float:
    began = time.perf_counter()
    for _ in range(n):
        call()
    return (time.perf_counter() - began) / n * 1e6


def interleaved(variants: dict[str, Callable[[], Any]], n: int, rounds: int) -> dict[str, float]:
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(rounds):
        for name, call in variants.items():
            samples[name].append(per_call_us(call, n))
    return {name: statistics.median(values) for name, values in samples.items()}


def app(variant: str) -> Starlette:
    plain = stdlib_logger(f"bench.app.{variant}")
    structured = make_logger("bench", stream=NULL)

    async def work(request: Request) -> JSONResponse:
        if variant == "stdlib logging":
            plain.info("working", extra={"fields": {"item": 1}})
            plain.info("done", extra={"fields": {"item": 1}})
        elif variant == "reference":
            structured.info("working", item=1)
            structured.info("done", item=1)
        return JSONResponse({"ok": True})

    application = Starlette(routes=[Route("/work", work)])
    if variant == "reference":
        application.add_middleware(RequestIdMiddleware, logger=structured)
    return application


def shipping(rate_docs: int, single_docs: int) -> dict[str, float]:
    client = opensearch_client(get_settings().url_for("opensearch"))
    index = unique_name("bench_logs").lower()
    logstore.create_index(client, index)
    try:
        shipper = Shipper(client, index, batch_size=500, max_buffer=rate_docs)
        event = {"event": "x", "level": "info", "service": "bench", "n": 0}
        began = time.perf_counter()
        for n in range(rate_docs):
            shipper.submit(event | {"n": n, "timestamp": "2026-01-01T00:00:00Z"})
        shipper.close(timeout=120)
        batched = rate_docs / (time.perf_counter() - began)
        began = time.perf_counter()
        for n in range(single_docs):
            client.index(index=index, body=event | {"n": n, "timestamp": "2026-01-01T00:00:00Z"})
        single = single_docs / (time.perf_counter() - began)
        return {"one index request per document": single, "shipper, bulk batches of 500": batched}
    finally:
        client.indices.delete(index=index, ignore_unavailable=True)
        client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=300, help="GETs per variant per round")
    parser.add_argument("--docs", type=int, default=20_000, help="documents through the shipper")
    args = parser.parse_args()

    plain = stdlib_logger("bench.events")
    structured = make_logger("bench", stream=NULL)
    index_client = opensearch_client(get_settings().url_for("opensearch"))
    sink_index = unique_name("bench_events").lower()
    logstore.create_index(index_client, sink_index)
    # A real shipper: the request path pays submit(), its thread ships meanwhile (and competes for CPU)
    sink = Shipper(index_client, sink_index, max_buffer=10**6)
    shipped = make_logger("bench", stream=NULL, sink=sink)
    workdir = Path(tempfile.mkdtemp(prefix="bench-winston-"))
    guide = Log(create_logger(console=NULL, directory=workdir))
    fields = {"user_id": "u-42", "route": "/users/{user_id}", "status": 200}
    per_event = interleaved(
        {
            "stdlib logging + JSON formatter": lambda: plain.info(
                "request done", extra={"fields": fields}
            ),
            "guide (Winston port: console + files)": lambda: guide.info("request done", fields),
            "reference structlog (JSON, redaction)": lambda: structured.info(
                "request done", **fields
            ),
            "reference + shipper sink": lambda: shipped.info("request done", **fields),
        },
        n=2_000,
        rounds=args.rounds,
    )
    guide.close()
    sink.close(timeout=120)
    index_client.indices.delete(index=sink_index, ignore_unavailable=True)
    index_client.close()

    servers = {
        name: serve_in_background(app(name)) for name in ("none", "stdlib logging", "reference")
    }
    per_request: dict[str, list[float]] = {name: [] for name in servers}
    clients = {name: httpx.Client(base_url=server.url) for name, server in servers.items()}
    for _ in range(args.rounds):
        for name, client in clients.items():

            def get(c: httpx.Client = client) -> None:
                c.get("/work").raise_for_status()

            per_request[name].append(per_call_us(get, args.requests))
    for client in clients.values():
        client.close()
    for server in servers.values():
        server.stop()
    request_ms = {name: statistics.median(v) / 1000 for name, v in per_request.items()}

    rates = shipping(args.docs, max(200, args.docs // 20))

    load = os.getloadavg()[0]
    lines = [
        "# Logging overhead per event and per request; shipping throughput into OpenSearch",
        "",
        "Command: `uv run python -m bench.observability_logging`  ",
        f"Setup: Python {platform.python_version()}, {os.cpu_count()} cores, uvicorn and the course's "
        f"OpenSearch on 127.0.0.1, load average {load:.1f} at the end.  ",
        "Target: structured, redacted logging costs a small multiple of stdlib logging per event and "
        "little per request; batching ships an order of magnitude more documents per second.",
        "",
        f"## 1 · One log call with three fields (median of {args.rounds} rounds × 2,000 calls)",
        "",
        "| variant | µs per event | ÷ stdlib |",
        "|---|---:|---:|",
    ]
    base = per_event["stdlib logging + JSON formatter"]
    lines += [f"| {k} | {v:,.1f} | {v / base:.1f} |" for k, v in per_event.items()]
    lines += [
        "",
        f"## 2 · One request on uvicorn (median of {args.rounds} rounds × {args.requests} GETs)",
        "",
        "| variant | ms per request | ÷ no logging |",
        "|---|---:|---:|",
    ]
    base = request_ms["none"]
    lines += [f"| {k} | {v:.2f} | {v / base:.2f} |" for k, v in request_ms.items()]
    lines += [
        "",
        f"## 3 · Documents per second into OpenSearch ({args.docs:,} through the shipper)",
        "",
        "| variant | documents/s | ÷ one request per document |",
        "|---|---:|---:|",
    ]
    base = rates["one index request per document"]
    lines += [f"| {k} | {v:,.0f} | {v / base:.1f} |" for k, v in rates.items()]
    lines += [
        "",
        "Reading: the reference chain does more per event than a stdlib formatter (contextvars, an",
        "ISO timestamp, the redaction walk over every field) — tens of microseconds, which a request",
        "of a millisecond or more barely notices: in part 2 the three variants differ by less than",
        "the run-to-run noise of a loaded 2-core machine. The shipper adds a lock and an append on",
        "the request path; the sending happens on its own thread, in bulk requests that carry",
        "hundreds of documents for the price of one round trip and one refresh-bound write (part 3).",
    ]
    RESULTS.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
