"""Taught in notebooks/00_setup.ipynb §4.

Exercise 00.1: a health check for each of the course's five servers.

A health check answers one question — "can I use this server right now?" — and must never crash the
caller: a server that is down is a normal answer (``healthy=False`` with a reason), not an exception.
Only a programming error, such as asking about a server that does not exist, raises.

Use the clients from ``reference.setup.connect`` (one function per server, each taking a URL and a
timeout). A port that accepts connections is not enough: make one real request with the server's own
protocol, so that something else listening on the port does not count as healthy. Make that request
on every call ("right now": never reuse an earlier answer), and pass the timeout on, so that a
server which accepts the connection and then never answers comes back unhealthy instead of hanging.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from reference.setup import connect

SERVERS = ("postgres", "mongo", "redis", "kafka", "rabbitmq")


@dataclass(frozen=True)
class Health:
    """The answer of one health check."""

    server: str  # one of SERVERS
    healthy: bool
    detail: str  # what answered ("PostgreSQL 15.14") or why not ("ConnectionError: …"); never empty
    rtt_ms: float  # how long the check took, in milliseconds


def check(server: str, url: str, timeout: float = 3.0) -> Health:
    """Check whether ``server`` (one of SERVERS) answers at ``url`` within about ``timeout`` seconds.

    Returns a Health whose ``healthy`` is True only after a real request succeeded; any failure to
    connect or to get an answer gives ``healthy=False`` with the error in ``detail``. Raises
    ValueError for a server name that is not in SERVERS.
    """
    if server not in SERVERS:
        raise ValueError(f"unknown server {server!r}; expected one of {', '.join(SERVERS)}")
    start = time.perf_counter()
    try:
        detail = ask(server, url, timeout)
    except Exception as error:  # noqa: BLE001 - every failure is an answer: "not healthy"
        detail = f"{type(error).__name__}: {error}".strip()
        healthy = False
    else:
        healthy = True
    return Health(server, healthy, detail, (time.perf_counter() - start) * 1000)


def ask(server: str, url: str, timeout: float) -> str:
    """Make one real request to ``server`` at ``url`` and return what answered; raise on any failure."""
    if server == "postgres":
        with connect.postgres(url, timeout) as conn:
            row = conn.execute("SHOW server_version").fetchone()
        return f"PostgreSQL {row[0] if row else '?'}"
    if server == "mongo":
        client = connect.mongo(url, timeout)
        try:
            return f"MongoDB protocol, version {client.admin.command('buildInfo')['version']}"
        finally:
            client.close()
    if server == "redis":
        redis = connect.redis_client(url, timeout)
        try:
            return f"Redis {redis.info('server')['redis_version']}"
        finally:
            redis.close()
    if server == "kafka":
        admin = connect.kafka_admin(url, timeout)
        try:
            return f"Kafka, {len(admin.describe_cluster()['brokers'])} broker(s)"
        finally:
            admin.close()
    connection = connect.rabbitmq(url, timeout)
    try:
        connection.channel().close()
        return "AMQP 0-9-1 broker"
    finally:
        connection.close()
