"""Decoy for 00.1: makes a real request, but lets the client's error escape instead of answering
"unhealthy" (the caller of a health check then crashes exactly when the server is down).

Caught by test_closed_port_is_unhealthy_not_an_exception.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from reference.setup import connect

SERVERS = ("postgres", "mongo", "redis", "kafka", "rabbitmq")


@dataclass(frozen=True)
class Health:
    server: str
    healthy: bool
    detail: str
    rtt_ms: float


def check(server: str, url: str, timeout: float = 3.0) -> Health:
    if server not in SERVERS:
        raise ValueError(f"unknown server {server!r}")
    start = time.perf_counter()
    if server == "postgres":
        with connect.postgres(url, timeout) as conn:
            conn.execute("SELECT 1")
    elif server == "mongo":
        connect.mongo(url, timeout).admin.command("ping")
    elif server == "redis":
        connect.redis_client(url, timeout).ping()
    elif server == "kafka":
        connect.kafka_admin(url, timeout).close()
    else:
        connect.rabbitmq(url, timeout).close()
    return Health(server, True, "answered", (time.perf_counter() - start) * 1000)
