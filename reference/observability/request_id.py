"""Request ids: ASGI middleware that gives every request one id, binds it to every log line the request
produces and answers with it in ``X-Request-ID`` — the guide's logger has none (guide-defects.md §8.1).
Taught in ``notebooks/08_observability_logs.ipynb``.

- An incoming ``X-Request-ID`` is kept only when well formed (:data:`WELL_FORMED`: 1–128 of
  ``A-Z a-z 0-9 . _ : -``; a UUID fits). Anything else — a CRLF or NUL trying to forge a log line or a
  response header, 10 KB of padding, non-ASCII — is replaced by a fresh UUID, and a warning says so
  (with the length, never the value). The request goes on: a bad id is no reason to refuse work.
- ``X-Correlation-ID`` (chapter 05's id, the one that rides on events) is kept under the same rule,
  else it is the request id.
- Both are bound with :func:`reference.observability.logging.bound` around the whole request, so the
  handler, the code it calls and the access line share them; :func:`outgoing_headers` forwards them to
  the next service, whose middleware keeps them: one id across the whole trace.
- With a logger, one ``http.request`` access line per request: method, path, status, duration.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from structlog.typing import FilteringBoundLogger

from reference.observability.logging import bound, current

REQUEST_ID_HEADER: Final = "X-Request-ID"
CORRELATION_ID_HEADER: Final = "X-Correlation-ID"
WELL_FORMED: Final = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_REQUEST_ID = REQUEST_ID_HEADER.lower().encode()
_CORRELATION_ID = CORRELATION_ID_HEADER.lower().encode()


def accept(raw: bytes | None) -> str | None:
    """The id if it is well formed, else ``None``."""
    if raw is None or len(raw) > 128:
        return None
    text = raw.decode("ascii", "replace")
    return text if WELL_FORMED.fullmatch(text) else None


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp, logger: FilteringBoundLogger | None = None) -> None:
        self.app = app
        self.logger = logger

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        incoming = headers.get(_REQUEST_ID)
        request_id = accept(incoming) or str(uuid.uuid4())
        correlation_id = accept(headers.get(_CORRELATION_ID)) or request_id
        status = 500  # what the client sees if the app raises before starting a response

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() != _REQUEST_ID]
                message = {**message, "headers": [*kept, (_REQUEST_ID, request_id.encode())]}
            await send(message)

        started = time.perf_counter()
        with bound(request_id=request_id, correlation_id=correlation_id):
            if incoming is not None and self.logger is not None and request_id.encode() != incoming:
                self.logger.warning("request_id.replaced", incoming_length=len(incoming))
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                if self.logger is not None:
                    self.logger.info(
                        "http.request",
                        method=scope["method"],
                        path=scope["path"],
                        status=status,
                        duration_ms=round((time.perf_counter() - started) * 1000, 3),
                    )


def outgoing_headers() -> dict[str, str]:
    """Headers that carry the current request's ids to the next service."""
    headers: dict[str, str] = {}
    request_id, correlation_id = current("request_id"), current("correlation_id")
    if request_id is not None:
        headers[REQUEST_ID_HEADER] = request_id
    if correlation_id is not None:
        headers[CORRELATION_ID_HEADER] = correlation_id
    return headers
