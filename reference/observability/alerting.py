"""A webhook receiver for Alertmanager: a real HTTP server that records every notification.

Alertmanager delivers alerts by POSTing JSON (``{"status": "firing", "alerts": [...], ...}``) to
a webhook; a chat integration or a pager is one such receiver. :class:`WebhookReceiver` is the
smallest honest one: a stdlib ``ThreadingHTTPServer`` on a free loopback port, in a thread, keeping
the last ``capacity`` notifications with the time each arrived, so a notebook can show when an
alert fired and resolved and a test can assert it. It is still an HTTP endpoint, so hostile input
gets a clear ``application/problem+json`` 4xx and is never recorded: a body over ``max_body``
bytes (413), no ``Content-Length`` (411), a body that is not JSON (400), JSON that is not a
notification (422), a method other than POST (405), a body that stalls (408 after
``read_timeout`` seconds). When full it drops the oldest notification and
counts it in :attr:`WebhookReceiver.evicted` — bounded, but never silently.

Taught in ``notebooks/08_observability_alerts.ipynb``.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Final

from reference.observability.prometheus import wait_for
from reference.setup.ports import LOOPBACK

DEFAULT_CAPACITY: Final = 1000
DEFAULT_MAX_BODY: Final = 1 << 20  # 1 MiB: Alertmanager's notification for a big group is far less
DEFAULT_READ_TIMEOUT_S: Final = 10.0  # a client that stalls mid-request loses its connection


@dataclass(frozen=True)
class Notification:
    """One POST from Alertmanager: when it arrived (``time.time()`` and ``time.monotonic()``) and
    the parsed body."""

    received_at: float
    received_monotonic: float
    payload: dict[str, Any]

    @property
    def status(self) -> str:
        """``"firing"`` or ``"resolved"`` for the group as a whole."""
        return str(self.payload.get("status", ""))

    def alerts(self, name: str | None = None) -> list[dict[str, Any]]:
        """The alerts in this notification, optionally only those named ``name``."""
        return [
            alert
            for alert in self.payload["alerts"]
            if name is None or alert.get("labels", {}).get("alertname") == name
        ]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def setup(self) -> None:
        super().setup()
        # A client that announces a body and never sends it (slowloris) costs one thread for
        # read_timeout seconds, not forever.
        self.connection.settimeout(self.server.receiver.read_timeout)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: a notebook's output is the notifications, not an access log."""

    def _problem(self, status: int, title: str, detail: str) -> None:
        body = json.dumps(
            {"type": "about:blank", "title": title, "status": status, "detail": detail}
        )
        self.send_response(status)
        self.send_header("Content-Type", "application/problem+json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body.encode())

    def do_POST(self) -> None:
        receiver = self.server.receiver
        length_header = self.headers.get("Content-Length")
        if length_header is None:
            self._problem(411, "Length Required", "send a Content-Length header")
            return
        try:
            length = int(length_header)
        except ValueError:
            length = -1
        if length < 0:
            self._problem(400, "Bad Request", f"Content-Length is not a size: {length_header!r}")
            return
        if length > receiver.max_body:
            # not read at all: an oversized body costs us nothing but closing the connection
            self._problem(413, "Content Too Large", f"the limit is {receiver.max_body} bytes")
            return
        try:
            raw = self.rfile.read(length)
        except TimeoutError:
            self._problem(
                408, "Request Timeout", f"the body did not arrive in {receiver.read_timeout} s"
            )
            return
        if len(raw) < length:  # the client closed early: nothing to record, no one to answer
            return
        try:
            payload = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
            self._problem(400, "Bad Request", f"the body is not JSON: {error}")
            return
        if (
            not isinstance(payload, dict)
            or not isinstance(payload.get("alerts"), list)
            or not all(isinstance(alert, dict) for alert in payload["alerts"])
        ):
            self._problem(
                422,
                "Unprocessable Content",
                'an Alertmanager notification is {"alerts": [{...}], ...}',
            )
            return
        receiver._record(payload)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _not_allowed(self) -> None:
        self._problem(405, "Method Not Allowed", "Alertmanager POSTs notifications here")

    do_GET = do_PUT = do_DELETE = do_PATCH = _not_allowed


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    receiver: WebhookReceiver


class WebhookReceiver:
    """``with WebhookReceiver() as hook:`` → give ``hook.url`` to Alertmanager, read
    ``hook.notifications()``. Stopped on exit."""

    def __init__(
        self,
        *,
        capacity: int = DEFAULT_CAPACITY,
        max_body: int = DEFAULT_MAX_BODY,
        read_timeout: float = DEFAULT_READ_TIMEOUT_S,
    ) -> None:
        if capacity < 1 or max_body < 1 or not read_timeout > 0:
            raise ValueError("capacity, max_body and read_timeout must be positive")
        self.max_body = max_body
        self.read_timeout = read_timeout
        self.evicted = 0
        self._lock = threading.Lock()
        self._received: deque[Notification] = deque(maxlen=capacity)
        self._server = _Server((LOOPBACK, 0), _Handler)
        self._server.receiver = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="webhook", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/alerts"

    def start(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _record(self, payload: dict[str, Any]) -> None:
        with self._lock:
            if len(self._received) == self._received.maxlen:
                self.evicted += 1
            self._received.append(Notification(time.time(), time.monotonic(), payload))

    def notifications(self) -> list[Notification]:
        """What arrived, oldest first (at most ``capacity``; see :attr:`evicted`)."""
        with self._lock:
            return list(self._received)

    def events(self, name: str | None = None) -> list[tuple[float, str, str]]:
        """``(received_monotonic, status, alertname)`` per alert per notification, oldest first."""
        return [
            (
                note.received_monotonic,
                str(alert.get("status", note.status)),
                alert["labels"]["alertname"],
            )
            for note in self.notifications()
            for alert in note.alerts(name)
            if isinstance(alert.get("labels"), dict) and "alertname" in alert["labels"]
        ]

    def wait_for_status(self, name: str, status: str, timeout: float = 30.0) -> Notification:
        """The first notification (already here or still to come) with alert ``name`` in ``status``."""

        def found() -> Notification | None:
            for note in self.notifications():
                if any(alert.get("status") == status for alert in note.alerts(name)):
                    return note
            return None

        return wait_for(found, timeout)

    def wait_for(
        self, predicate: Callable[[list[Notification]], bool], timeout: float = 30.0
    ) -> None:
        """Poll until ``predicate(notifications)`` is true."""
        wait_for(lambda: predicate(self.notifications()), timeout)
