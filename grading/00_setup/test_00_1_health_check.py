"""Grading for exercise 00.1: a health check per server (exercises/00_setup/health_check.py)."""

from __future__ import annotations

import socket
from types import ModuleType
from urllib.parse import urlsplit, urlunsplit

import pytest

from course.harness.loader import load_exercise
from course.testing.fixtures import ensure_server
from reference.config import get_settings

SERVERS = ["postgres", "mongo", "redis", "kafka", "rabbitmq"]


@pytest.fixture
def exercise() -> ModuleType:
    return load_exercise("00.1")


def closed_port() -> int:
    """A port nothing listens on: bound once by us, then released."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def with_port(url: str, port: int) -> str:
    """The same URL (or Kafka ``host:port`` list) pointing at another port."""
    if "://" not in url:
        return f"127.0.0.1:{port}"
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    host = f"127.0.0.1:{port}"
    return urlunsplit(parts._replace(netloc=f"{netloc[0]}@{host}" if len(netloc) == 2 else host))


def test_unknown_server_is_a_value_error(exercise: ModuleType) -> None:
    """Asking about a server the course does not have is a programming error, not an unhealthy
    server: check("mysql", …) must raise ValueError."""
    with pytest.raises(ValueError, match="mysql"):
        exercise.check("mysql", "mysql://127.0.0.1:3306", 1.0)


@pytest.mark.parametrize("server", SERVERS)
def test_running_server_is_healthy(exercise: ModuleType, server: str) -> None:
    """On the course's own URL a running server is healthy: check() returns a Health with
    healthy=True, the server's name, a non-empty detail and a non-negative rtt_ms."""
    ensure_server(server)
    health = exercise.check(server, get_settings().url_for(server), 5.0)
    assert isinstance(health, exercise.Health), f"check() returned {health!r}, not a Health"
    assert health.healthy is True, f"{server} is running but check() said: {health.detail}"
    assert health.server == server
    assert health.detail.strip(), "detail is empty: say what answered"
    assert health.rtt_ms >= 0


@pytest.mark.parametrize("server", SERVERS)
def test_closed_port_is_unhealthy_not_an_exception(exercise: ModuleType, server: str) -> None:
    """When nothing listens on the port, check() returns healthy=False with the reason in detail —
    it must not raise, and it must not claim the server is healthy."""
    url = with_port(get_settings().url_for(server), closed_port())
    # A short timeout: PyMongo and kafka-python retry a refused connection until it runs out.
    health = exercise.check(server, url, 1.0)
    assert isinstance(health, exercise.Health), f"check() returned {health!r}, not a Health"
    assert health.healthy is False, f"nothing listens at {url}, yet check() said healthy"
    assert health.detail.strip(), "detail is empty: say why the server is not healthy"


@pytest.mark.parametrize(
    ("server", "impostor"),
    [("redis", "postgres"), ("postgres", "redis")],
    ids=["redis", "postgres"],
)
def test_another_server_on_the_port_is_not_healthy(
    exercise: ModuleType, server: str, impostor: str
) -> None:
    """An open port is not a healthy server: pointed at a port where a different server listens,
    check() must make a real request in its own protocol and report healthy=False."""
    ensure_server(impostor)
    port = urlsplit(get_settings().url_for(impostor)).port
    assert port is not None
    url = with_port(get_settings().url_for(server), port)
    health = exercise.check(server, url, 2.0)
    assert health.healthy is False, (
        f"{impostor} listens at {url}, yet check({server!r}) said healthy"
    )
