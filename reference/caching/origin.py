"""A counting origin: the server behind a cache, telling how often the cache let a request through.

Pattern: observe a cache from the outside — the origin counts the calls that reached it, the cache's
``X-Cache-Status`` says why. Taught in notebooks/06_caching_http.ipynb §3; the nginx tests, exercise
06.5's grading and ``bench/caching_nginx.py`` put it behind a throwaway nginx.

Each request says what it wants answered, in its query string, so one origin serves every scenario:
``status`` (default 200), ``cc`` (the ``Cache-Control`` value, none by default), ``vary``, ``delay``
(seconds to wait before answering — a slow origin), ``lang`` answered from ``Accept-Language``. The
body names the call number for that path and the ``Authorization`` the origin saw, so a test can
tell whose response a cache served. :meth:`CountingOrigin.hold` makes one path hang until released
(a slow origin without timing). Hostile query values (a non-numeric status or delay) get a 400.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

MAX_DELAY_S = 10.0


class CountingOrigin:
    """A threaded HTTP origin on an ephemeral loopback port (or ``port``), counting calls per path."""

    def __init__(self, port: int = 0) -> None:
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._gates: dict[str, threading.Event] = {}
        origin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body leave in two writes: with Nagle on, a keep-alive client's delayed ACK
            # adds ~40 ms to every response.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: object) -> None:
                """Quiet: the counts are the log."""

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(url.query).items()}
                try:
                    status = int(query.get("status", "200"))
                    delay = float(query.get("delay", "0"))
                    if not (100 <= status <= 599 and 0 <= delay <= MAX_DELAY_S):
                        raise ValueError
                except ValueError:
                    self._answer(400, {"error": "status must be 100-599, delay 0-10 s"}, {})
                    return
                with origin._lock:
                    origin.calls[url.path] += 1
                    call = origin.calls[url.path]
                if delay:
                    time.sleep(delay)
                gate = origin._gates.get(url.path)
                if gate is not None:
                    gate.wait(MAX_DELAY_S)
                headers = {}
                if "cc" in query:
                    headers["Cache-Control"] = query["cc"]
                if "vary" in query:
                    headers["Vary"] = query["vary"]
                body = {
                    "path": url.path,
                    "call": call,
                    "authorization": self.headers.get("Authorization"),
                    "lang": self.headers.get("Accept-Language"),
                }
                self._answer(status, body, headers)

            def _answer(self, status: int, body: object, headers: dict[str, str]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def hold(self, path: str) -> threading.Event:
        """From now on, requests for ``path`` wait (up to 10 s) until the returned event is set."""
        gate = threading.Event()
        self._gates[path] = gate
        return gate

    def count(self, path: str) -> int:
        """How many requests for ``path`` reached the origin."""
        with self._lock:
            return self.calls[path]


@contextmanager
def counting_origin(port: int = 0) -> Iterator[CountingOrigin]:
    """Serve a :class:`CountingOrigin` in a background thread for the ``with`` block."""
    origin = CountingOrigin(port)
    thread = threading.Thread(target=origin.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield origin
    finally:
        origin.server.shutdown()
        origin.server.server_close()
        thread.join(timeout=5)
