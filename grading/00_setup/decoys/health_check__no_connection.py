"""Decoy for 00.1: says every server is healthy without ever connecting to it.

Caught by test_closed_port_is_unhealthy_not_an_exception.
"""

from __future__ import annotations

from dataclasses import dataclass

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
    return Health(server, True, "ok", 0.0)
