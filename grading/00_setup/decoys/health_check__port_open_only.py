"""Decoy for 00.1: only checks that the TCP port accepts a connection, so any program listening there
(another server, a leftover process) counts as a healthy server.

Caught by test_another_server_on_the_port_is_not_healthy.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

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
    if "://" in url:
        parts = urlsplit(url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 0
    else:
        host, _, text = url.split(",")[0].rpartition(":")
        port = int(text)
    start = time.perf_counter()
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as error:
        return Health(server, False, str(error), (time.perf_counter() - start) * 1000)
    return Health(server, True, "port open", (time.perf_counter() - start) * 1000)
