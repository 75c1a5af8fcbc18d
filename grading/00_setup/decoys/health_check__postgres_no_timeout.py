"""Decoy for 00.1: opens its PostgreSQL connection with psycopg.connect(url) and no connect_timeout,
so a server that accepts and never answers hangs the check — caught by test_a_server_that_never_answers….

Caught by test_another_server_on_the_port_is_not_healthy.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import psycopg

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
        with psycopg.connect(url) as conn:  # libpq's default connect_timeout: wait forever
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
