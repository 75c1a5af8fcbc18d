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

from dataclasses import dataclass

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
    # TODO: reject an unknown server name; otherwise time a call to ask() and turn any failure
    # into an unhealthy answer whose detail says what went wrong. Nothing but ValueError escapes.
    raise NotImplementedError


def ask(server: str, url: str, timeout: float) -> str:
    """Make one real request to ``server`` at ``url`` and return what answered; raise on any failure."""
    # TODO: for the named server, open a client from reference.setup.connect with this url and
    # timeout, make one request in the server's own protocol, close the client, and return a short
    # description of what answered.
    raise NotImplementedError
