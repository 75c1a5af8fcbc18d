"""A bulkhead: at most N calls in flight to one dependency; the N+1st is refused at once.

Pattern: bulkhead (Nygard, *Release It!*; the watertight compartments of a ship's hull). A slow
dependency holds every worker thread that calls it; with one pool of workers for everything, one hung
service starves the calls to the healthy ones. A semaphore per dependency bounds what it can hold,
and a full compartment **rejects fast** (a typed :class:`BulkheadFull`, a 503 to the client) rather
than queueing callers behind the hang. Taught in ``notebooks/04_microservices_resilience.ipynb`` §4;
Envoy's cluster ``circuit_breakers`` (``max_requests``, ``max_pending_requests``) are the proxy's one.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class BulkheadFull(Exception):
    """Every slot for this dependency is taken: refused without calling it."""

    def __init__(self, name: str, limit: int) -> None:
        super().__init__(f"bulkhead {name!r} is full ({limit} calls in flight)")
        self.name = name
        self.limit = limit


class Bulkhead:
    """``call(fn)`` runs ``fn`` in one of ``limit`` slots, waiting at most ``max_wait`` seconds."""

    def __init__(self, name: str, limit: int, *, max_wait: float = 0.0) -> None:
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 10_000:
            raise ValueError(f"limit must be an int in 1..10000, got {limit!r}")
        if isinstance(max_wait, bool) or not isinstance(max_wait, int | float):
            raise ValueError(f"max_wait must be seconds, got {max_wait!r}")
        if not math.isfinite(max_wait) or not 0 <= max_wait <= 60:
            raise ValueError(f"max_wait must be finite seconds in [0, 60], got {max_wait!r}")
        self.name = name
        self.limit = limit
        self.max_wait = float(max_wait)
        self._slots = threading.BoundedSemaphore(limit)
        self._lock = threading.Lock()
        self.in_flight = 0
        self.rejected = 0

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        # max_wait 0 is a non-blocking try: the point is not to queue behind a hang.
        if self.max_wait:
            acquired = self._slots.acquire(timeout=self.max_wait)
        else:
            acquired = self._slots.acquire(blocking=False)
        if not acquired:
            with self._lock:
                self.rejected += 1
            raise BulkheadFull(self.name, self.limit)
        with self._lock:
            self.in_flight += 1
        try:
            return fn(*args, **kwargs)
        finally:
            with self._lock:
                self.in_flight -= 1
            self._slots.release()
