"""Throwaway Prometheus exporters for the course's PostgreSQL and Redis, and the USE queries over them.

Pattern (taught in ``notebooks/08_observability_metrics.ipynb`` §5): RED (rate, errors, duration)
describes a service; USE (utilisation, saturation, errors) describes a resource it depends on. A
database does not expose Prometheus metrics itself: an *exporter* connects as a client, reads its
statistics (``pg_stat_database``, Redis ``INFO``) at each scrape and translates them. Debian's
``prometheus-postgres-exporter`` (0.11) and ``prometheus-redis-exporter`` (1.45) run here on free
loopback ports, as processes of ours, with the credentials of :mod:`reference.config` passed through
the environment (``DATA_SOURCE_NAME``, ``REDIS_PASSWORD``), never on the command line where ``ps``
would show them.

:data:`USE_QUERIES` are the PromQL expressions worth a dashboard, each naming the exporter metrics it
reads; ``tests/observability/test_exporters.py`` checks that every one of those names is really
exported by these versions (metric names change between exporter releases) and that each query
evaluates on a Prometheus scraping them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Final
from urllib.parse import urlsplit, urlunsplit

import httpx

from reference.config import get_settings
from reference.setup.ports import LOOPBACK, free_port
from reference.setup.processes import DIE_WITH_PARENT, stop_process

START_TIMEOUT_S: Final = 15.0


@dataclass(frozen=True)
class UseQuery:
    """One USE signal: which resource, which of the three, the PromQL, what a bad value means."""

    name: str
    resource: str
    kind: str  # "utilisation" | "saturation" | "errors"
    promql: str
    meaning: str

    def metric_names(self) -> set[str]:
        """The exporter metrics the expression reads (identifiers followed by ``{`` or ``[``, or
        standing alone before an operator) — not PromQL's functions and keywords."""
        words = set(re.findall(r"\b([a-z_][a-z0-9_]*)\b(?!\s*\()", self.promql))
        return {w for w in words if w.startswith(("pg_", "redis_"))}


USE_QUERIES: Final = (
    UseQuery(
        "pg_connections_used", "postgres", "utilisation",
        "sum(pg_stat_activity_count) / max(pg_settings_max_connections)",
        "share of max_connections in use; near 1, new clients are refused",
    ),
    UseQuery(
        "pg_cache_hit_ratio", "postgres", "utilisation",
        "sum(rate(pg_stat_database_blks_hit[1m])) / (sum(rate(pg_stat_database_blks_hit[1m]))"
        " + sum(rate(pg_stat_database_blks_read[1m])))",
        "share of block reads served from shared_buffers; well below 0.99 on an OLTP load, the "
        "working set no longer fits in memory",
    ),
    UseQuery(
        "pg_lock_waits", "postgres", "saturation",
        "sum(pg_locks_count)",
        "locks held or awaited right now; a climbing count is work queueing behind locks",
    ),
    UseQuery(
        "pg_deadlocks_and_rollbacks", "postgres", "errors",
        "sum(rate(pg_stat_database_deadlocks[1m])) + sum(rate(pg_stat_database_xact_rollback[1m]))",
        "transactions per second that ended in a deadlock or a rollback",
    ),
    UseQuery(
        "redis_memory_used", "redis", "utilisation",
        "max(redis_memory_used_bytes) / max(redis_memory_max_bytes > 0 or redis_total_system_memory_bytes)",
        "share of maxmemory in use (of the machine's memory when no maxmemory is set); at 1 the "
        "eviction policy starts deleting keys, or writes fail under noeviction",
    ),
    UseQuery(
        "redis_commands_per_second", "redis", "utilisation",
        "sum(rate(redis_commands_processed_total[1m]))",
        "commands per second; one Redis thread serves them all",
    ),
    UseQuery(
        "redis_clients_used", "redis", "saturation",
        "max(redis_connected_clients) / max(redis_config_maxclients)",
        "share of maxclients connected; blocked clients wait in BLPOP/XREAD",
    ),
    UseQuery(
        "redis_evictions_per_second", "redis", "saturation",
        "sum(rate(redis_evicted_keys_total[1m]))",
        "keys evicted per second to stay under maxmemory: a cache that is too small",
    ),
    UseQuery(
        "redis_keyspace_hit_ratio", "redis", "utilisation",
        "sum(rate(redis_keyspace_hits_total[1m])) / (sum(rate(redis_keyspace_hits_total[1m]))"
        " + sum(rate(redis_keyspace_misses_total[1m])))",
        "share of key lookups that found the key (a cache's hit ratio)",
    ),
    UseQuery(
        "redis_rejected_connections", "redis", "errors",
        "sum(rate(redis_rejected_connections_total[1m]))",
        "connections refused per second because maxclients was reached",
    ),
)  # fmt: skip


class Exporter:
    """One exporter process on a free loopback port: ``with Exporter(...) as e: e.scrape()``."""

    def __init__(self, kind: str, command: list[str], env: dict[str, str]) -> None:
        self.kind = kind
        self.port = free_port()
        self.command = [c.replace("{address}", self.address) for c in command]
        self.env = env
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    def start(self) -> None:
        # stderr to DEVNULL: these exporters log every failed scrape, which is what up == 0 says
        self.process = subprocess.Popen(
            self.command,
            env={**os.environ, **self.env},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=DIE_WITH_PARENT,
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                if httpx.get(f"{self.url}/metrics", timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:  # not listening yet
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the {self.kind} exporter did not start: {self.command[0]}")
            time.sleep(0.05)

    def scrape(self) -> str:
        response = httpx.get(f"{self.url}/metrics", timeout=10)
        response.raise_for_status()
        return response.text

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
        self.process = None

    def __enter__(self) -> Exporter:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _binary(name: str) -> str:
    path = shutil.which(name) or shutil.which(name, path="/usr/bin")
    if path is None:
        raise RuntimeError(f"{name} is not installed: apt-get install {name}")
    return path


def postgres_exporter(database_url: str | None = None) -> Exporter:
    """``prometheus-postgres-exporter`` for ``DATABASE_URL`` (the course's PostgreSQL by default)."""
    url = database_url or get_settings().database_url
    parts = urlsplit(url)
    query = parts.query or "sslmode=disable"  # the course's PostgreSQL listens without TLS
    dsn = urlunsplit(("postgresql", parts.netloc, parts.path, query, ""))
    command = [
        _binary("prometheus-postgres-exporter"),
        "--web.listen-address={address}",
        "--log.level=error",
    ]
    return Exporter("postgres", command, {"DATA_SOURCE_NAME": dsn})


def redis_exporter(redis_url: str | None = None) -> Exporter:
    """``prometheus-redis-exporter`` for ``REDIS_URL`` (the course's Redis by default)."""
    url = redis_url or get_settings().redis_url
    parts = urlsplit(url)
    address = f"redis://{parts.hostname or LOOPBACK}:{parts.port or 6379}"
    command = [
        _binary("prometheus-redis-exporter"),
        "-web.listen-address",
        "{address}",
        "-redis.addr",
        address,
        # redis_total_system_memory_bytes, the memory query's denominator when maxmemory is 0
        "-include-system-metrics",
    ]
    env = {"REDIS_PASSWORD": parts.password or ""}
    if parts.username:
        env["REDIS_USER"] = parts.username
    return Exporter("redis", command, env)
