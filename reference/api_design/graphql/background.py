"""Serve an ASGI app with uvicorn on a free port in a background thread (notebooks, tests, bench).

Pattern: test against the real server — real sockets, real HTTP and WebSocket framing, the app's own
lifespan and event loop — started in-process so a notebook cell or a fixture can own it. Taught in
``notebooks/01_api_design_graphql.ipynb``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import uvicorn
from starlette.types import ASGIApp


@dataclass
class BackgroundServer:
    server: uvicorn.Server
    thread: threading.Thread
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def serve_in_background(app: ASGIApp, timeout: float = 10.0, **options: Any) -> BackgroundServer:
    """Start ``app`` on ``127.0.0.1`` (any free port) and return once it accepts connections.

    ``options`` go to ``uvicorn.Config`` over these defaults: ``ssl_certfile``/``ssl_keyfile`` for
    HTTPS, ``server_header=False``, ``lifespan="off"`` (chapter 07's :func:`reference.security.tls.serve`).
    """
    settings: dict[str, Any] = {"log_level": "warning", "lifespan": "on", **options}
    config = uvicorn.Config(app, host="127.0.0.1", port=0, **settings)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    return BackgroundServer(server=server, thread=thread, port=port)
