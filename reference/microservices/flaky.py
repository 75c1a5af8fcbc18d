"""A flaky upstream: a real HTTP server whose faults a test or notebook changes while it runs.

Pattern: fault injection — the breaker, retries, the gateway's timeouts are only believable against a
dependency that really fails over a real socket (5xx, 404, added latency, a hang, a closed port), and
whose own request count shows how much load the client put on it. Taught in
``notebooks/04_microservices_resilience.ipynb`` (the gateway notebook uses it as Envoy's upstream).

Drive it from Python (same process)::

    with serve_flaky() as up:
        up.set_faults(statuses=[503, 503], default_status=200, latency=0.0)
        ...  # call up.url
        up.hits()            # requests that reached it (all paths)
        up.hits("/users/1")  # one path

or over HTTP from another process: ``POST /_flaky/faults`` (JSON body, the fields of :class:`Faults`),
``GET /_flaky/hits``, ``POST /_flaky/reset``. Control requests are never counted as hits.

Every other path answers ``{"path": ..., "hit": n}`` with the status the faults decide, in this order:
a hang (holds the request until :meth:`FlakyUpstream.release` or the server stops), the added latency,
then the next status of the ``statuses`` sequence, else ``error_status`` with probability
``error_rate`` (a seeded RNG, so a run is reproducible), else ``default_status``.
"""

from __future__ import annotations

import asyncio
import math
import random
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

CONTROL_PREFIX = "/_flaky/"


@dataclass(frozen=True)
class Faults:
    """What the next requests get. Validated: a bad fault config is a test bug, said loudly."""

    default_status: int = 200
    statuses: tuple[int, ...] = ()  # consumed one per request before anything else decides
    error_rate: float = 0.0  # 0..1, probability of error_status once the sequence is used up
    error_status: int = 503
    latency: float = 0.0  # seconds added before answering
    hang: bool = False  # hold every request until release() or shutdown
    seed: int = 0

    def __post_init__(self) -> None:
        for status in (self.default_status, self.error_status, *self.statuses):
            if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
                raise ValueError(f"an HTTP status must be an int in 100..599, got {status!r}")
        rate = self.error_rate
        if not isinstance(rate, int | float) or not math.isfinite(rate) or not 0.0 <= rate <= 1.0:
            raise ValueError(f"error_rate must be a finite number in 0..1, got {rate!r}")
        lat = self.latency
        if not isinstance(lat, int | float) or not math.isfinite(lat) or not 0.0 <= lat <= 60.0:
            raise ValueError(f"latency must be finite seconds in 0..60, got {lat!r}")


@dataclass(frozen=True)
class Hit:
    """One request that reached the upstream: what a downstream service really received."""

    method: str
    path: str
    headers: dict[str, str]
    status: int


@dataclass
class FlakyUpstream:
    """The server's state: current faults and every request that reached it (thread-safe)."""

    faults: Faults = field(default_factory=Faults)
    url: str = ""
    _log: list[Hit] = field(default_factory=list)
    _pending: list[int] = field(default_factory=list)
    _rng: random.Random = field(default_factory=random.Random)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _released: threading.Event = field(default_factory=threading.Event)
    _generation: int = 0  # bumped by set_faults: a request that waited across it is left over

    def __post_init__(self) -> None:
        self.set_faults()  # apply the initial faults (an unset event would hang every request)

    def set_faults(self, **changes: Any) -> Faults:
        """Replace some fault fields (others keep their value); the status sequence restarts."""
        known = {f.name for f in fields(Faults)}
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"unknown fault fields {sorted(unknown)}; known: {sorted(known)}")
        if "statuses" in changes:
            changes["statuses"] = tuple(changes["statuses"])
        with self._lock:
            self._generation += 1
            self.faults = replace(self.faults, **changes)
            self._pending = list(self.faults.statuses)
            self._rng.seed(self.faults.seed)
            if self.faults.hang:
                self._released.clear()
            else:
                self._released.set()
            return self.faults

    def reset(self) -> None:
        """Healthy again (200, no latency) and the hit log emptied."""
        with self._lock:
            self._log.clear()
        self.set_faults(**{f.name: f.default for f in fields(Faults)})

    def release(self) -> None:
        """Let hanging requests go (they then answer as the other faults decide)."""
        self._released.set()

    def hits(self, path: str | None = None, method: str | None = None) -> int:
        """How many requests reached the upstream (optionally one path and/or method)."""
        with self._lock:
            return sum(
                1
                for hit in self._log
                if (path is None or hit.path == path) and (method is None or hit.method == method)
            )

    def log(self) -> list[Hit]:
        with self._lock:
            return list(self._log)

    def hits_by_path(self) -> dict[str, int]:
        with self._lock:
            return dict(Counter(hit.path for hit in self._log))

    def _decide(self, generation: int) -> int:
        with self._lock:
            if generation != self._generation:
                # A leftover from before the faults changed must not eat the new status sequence.
                return self.faults.default_status
            if self._pending:
                return self._pending.pop(0)
            if self.faults.error_rate and self._rng.random() < self.faults.error_rate:
                return self.faults.error_status
            return self.faults.default_status

    async def _serve(self, request: Request) -> Response:
        path = request.url.path
        if path.startswith(CONTROL_PREFIX):
            return await self._control(request, path.removeprefix(CONTROL_PREFIX))
        # Counted on arrival, before any fault: a hung or slow request still reached the upstream.
        with self._lock:
            number, generation = len(self._log) + 1, self._generation
            hit = Hit(request.method, path, dict(request.headers), 0)
            self._log.append(hit)
        # A hang polls a thread-safe event: release() and set_faults() come from other threads.
        while not self._released.is_set():
            await asyncio.sleep(0.02)
        if self.faults.latency:
            await asyncio.sleep(self.faults.latency)
        status = self._decide(generation)
        with self._lock:
            # reset() may have emptied the log while this request waited: then it is not ours.
            if len(self._log) >= number and self._log[number - 1] is hit:
                self._log[number - 1] = replace(hit, status=status)
        return JSONResponse({"path": path, "hit": number}, status_code=status)

    async def _control(self, request: Request, action: str) -> Response:
        if action == "hits" and request.method == "GET":
            return JSONResponse({"total": self.hits(), "by_path": self.hits_by_path()})
        if action == "reset" and request.method == "POST":
            self.reset()
            return JSONResponse({"ok": True})
        if action == "faults" and request.method == "POST":
            try:
                body = await request.json()
                if not isinstance(body, dict):
                    raise ValueError("the body must be a JSON object of fault fields")
                faults = self.set_faults(**body)
            except (ValueError, TypeError) as exc:
                return JSONResponse({"title": "invalid faults", "detail": str(exc)}, 422)
            return JSONResponse({f.name: getattr(faults, f.name) for f in fields(Faults)})
        return JSONResponse({"title": "unknown control action"}, 404)

    def app(self) -> Starlette:
        methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
        return Starlette(routes=[Route("/{rest:path}", self._serve, methods=methods)])


@contextmanager
def serve_flaky(**faults: Any) -> Iterator[FlakyUpstream]:
    """A flaky upstream listening on a free loopback port for the ``with`` block."""
    from reference.api_design.graphql.background import serve_in_background

    upstream = FlakyUpstream()
    upstream.set_faults(**faults)
    server = serve_in_background(upstream.app(), lifespan="off")
    upstream.url = server.url
    try:
        yield upstream
    finally:
        upstream.release()  # uvicorn waits for open requests: never leave one hanging
        server.stop()
