"""Fixtures chapter 08's log tests and grading share (``tests/observability/test_{shipper,logstore}.py``
and ``grading/08_observability/conftest.py`` import them).

- ``opensearch_url`` / ``opensearch``: the course's OpenSearch (``OPENSEARCH_URL``), started if needed,
  and a client for it (one per session).
- ``log_index``: a fresh index with the log mapping (:mod:`reference.observability.logstore`), named
  with the run tag (``logs_r3f9…_0c1d…``), deleted after the test.
- :class:`OutageProxy`: a TCP forwarder in front of the real OpenSearch that the test can take down
  (new connections refused, open ones reset) and bring back on the same port — an OpenSearch restart
  as the shipper sees it, in milliseconds instead of the 20 s a real restart of the JVM costs.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from opensearchpy import OpenSearch

from course.testing.fixtures import ensure_server
from course.testing.resources import unique_name
from reference.config import get_settings
from reference.observability.logstore import create_index
from reference.setup.ports import free_port


def opensearch_client(url: str) -> OpenSearch:
    return OpenSearch(url, timeout=10)


@pytest.fixture(scope="session")
def opensearch_url() -> str:
    ensure_server("opensearch")
    return get_settings().url_for("opensearch")


@pytest.fixture(scope="session")
def opensearch(opensearch_url: str) -> Iterator[OpenSearch]:
    client = opensearch_client(opensearch_url)
    yield client
    client.close()


@pytest.fixture
def log_index(opensearch: OpenSearch) -> Iterator[str]:
    index = unique_name("logs").lower()
    create_index(opensearch, index)
    yield index
    opensearch.indices.delete(index=index, ignore_unavailable=True)


class OutageProxy:
    """``127.0.0.1:<port>`` → the target, with :meth:`down` and :meth:`up`."""

    def __init__(self, target_url: str) -> None:
        parts = urlsplit(target_url)
        self.target = (parts.hostname or "127.0.0.1", parts.port or 9200)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self.up()

    def up(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def down(self) -> None:
        """Refuse new connections and reset the open ones, as a dying server does."""
        if self._listener is not None:
            with contextlib.suppress(OSError):
                # close() alone does not wake a thread blocked in accept() on Linux: the socket
                # would keep accepting. shutdown() does.
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        with self._lock:
            doomed, self._open = self._open, set()
        for sock in doomed:
            with contextlib.suppress(OSError):
                # linger 0: close() sends RST, the client sees "connection reset", not a clean EOF
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                sock.close()

    def close(self) -> None:
        self.down()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # down(): the listener was closed
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._open.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass  # the other side went away, or down() reset us
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            with self._lock:
                self._open.discard(source)
                self._open.discard(sink)
            source.close()


@pytest.fixture
def outage_proxy(opensearch_url: str) -> Iterator[OutageProxy]:
    proxy = OutageProxy(opensearch_url)
    yield proxy
    proxy.close()
