"""Grading for exercise 00.1: a health check per server (exercises/00_setup/health_check.py)."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from course.testing.fixtures import ensure_server
from reference.config import get_settings

SERVERS = ["postgres", "mongo", "redis", "kafka", "rabbitmq"]


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


# A check given `timeout` seconds that has not come back after this long is hung: the grader stops
# waiting (the thread is left behind) so one missing client timeout cannot stall the whole run.
HUNG_AFTER_S = 20


def check_or_hang(exercise: ModuleType, server: str, url: str, timeout: float) -> Any:
    """exercise.check(server, url, timeout), failing the test if it has not returned in HUNG_AFTER_S."""
    answers: list[Any] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            answers.append(exercise.check(server, url, timeout))
        except BaseException as error:  # noqa: BLE001 - re-raised in the test's thread below
            errors.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout=HUNG_AFTER_S)
    assert not thread.is_alive(), (
        f"check({server!r}, …, timeout={timeout}) had not returned after {HUNG_AFTER_S} s: a client"
        " is missing its timeout (use reference.setup.connect and pass the timeout on)"
    )
    if errors:
        raise errors[0]
    return answers[0]


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
    health = check_or_hang(exercise, server, url, 1.0)
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
    health = check_or_hang(exercise, server, url, 2.0)
    assert health.healthy is False, (
        f"{impostor} listens at {url}, yet check({server!r}) said healthy"
    )


class Relay:
    """A TCP relay on a free port in front of a real server: forwards both ways and counts the bytes
    the server sends back; ``close()`` removes it, so its port refuses connections again. With
    ``silent=True`` it forwards nothing: a program that accepts connections and never answers."""

    def __init__(self, upstream_port: int, *, silent: bool = False) -> None:
        self.upstream_port = upstream_port
        self.silent = silent
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.bytes_from_server = 0
        self.sockets: list[socket.socket] = [self.listener]
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:  # closed
                return
            if self.silent:
                self._track(client)
                threading.Thread(target=self._pipe, args=(client, None, False), daemon=True).start()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            except OSError:
                client.close()
                continue
            self._track(client, upstream)
            threading.Thread(target=self._pipe, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, True), daemon=True).start()

    def _track(self, *sockets: socket.socket) -> None:
        with self.lock:
            self.sockets.extend(sockets)

    def _pipe(self, source: socket.socket, target: socket.socket | None, answers: bool) -> None:
        try:
            while data := source.recv(65536):
                if target is None:
                    continue  # silent: read and never answer
                if answers:
                    with self.lock:
                        self.bytes_from_server += len(data)
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                if sock is not None:
                    with contextlib.suppress(OSError):
                        sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        with self.lock:
            for sock in self.sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)  # wakes a thread blocked in accept()/recv()
                sock.close()


@pytest.fixture
def relays() -> Iterator[Callable[..., Relay]]:
    made: list[Relay] = []

    def make(upstream_port: int, *, silent: bool = False) -> Relay:
        made.append(Relay(upstream_port, silent=silent))
        return made[-1]

    yield make
    for relay in made:
        relay.close()


def server_port(server: str) -> int:
    url = get_settings().url_for(server)
    port = urlsplit(url if "://" in url else f"kafka://{url}").port
    assert port is not None
    return port


@pytest.mark.parametrize("server", SERVERS)
def test_every_check_is_a_new_round_trip(
    exercise: ModuleType, relays: Callable[..., Relay], server: str
) -> None:
    """Health is a fact about now. Through a relay the server answers (bytes come back: a real
    request, not just an open port) and check() says healthy; once the relay is gone, the same URL
    must be unhealthy. An answer remembered from an earlier call is no health check."""
    ensure_server(server)
    relay = relays(server_port(server))
    url = with_port(get_settings().url_for(server), relay.port)
    first = check_or_hang(exercise, server, url, 5.0)
    assert first.healthy is True, f"{server} answers through {url}, yet: {first.detail}"
    assert relay.bytes_from_server > 0, "check() said healthy, but the server never answered"
    relay.close()
    second = check_or_hang(exercise, server, url, 1.0)
    assert second.healthy is False, (
        f"nothing listens at {url} any more, yet the second check() said healthy"
    )


@pytest.mark.parametrize("server", SERVERS)
def test_a_server_that_never_answers_is_unhealthy_not_a_hang(
    exercise: ModuleType, relays: Callable[..., Relay], server: str
) -> None:
    """A port that accepts the connection and then never answers (a hung server) is the case
    timeouts exist for: check(…, timeout=1.0) must come back, unhealthy. A client without its
    timeout waits forever (libpq's default, for one): use reference.setup.connect and pass the
    timeout on."""
    relay = relays(server_port(server), silent=True)
    url = with_port(get_settings().url_for(server), relay.port)
    health = check_or_hang(exercise, server, url, 1.0)
    assert health.healthy is False, f"{server} never answered, yet check() said healthy"
