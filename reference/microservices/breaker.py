"""A circuit breaker: closed → open → half-open, on an injected clock; and the guide's UserClient fixed.

Pattern: circuit breaker (Nygard, *Release It!*). While a dependency is unhealthy, stop calling it:
fail fast with a typed :class:`BreakerOpen`, serve a fallback, and let exactly one probe find out when
it has recovered. Taught in ``notebooks/04_microservices_resilience.ipynb`` §1–2 (Exercise 04.1 asks
for the state machine); the guide's opossum version is :mod:`guide.microservices.breaker`.

What differs from the guide's opossum configuration, and why:

- Only failures that mean *the dependency is unhealthy* count (:func:`dependency_unhealthy`: 5xx,
  timeouts, connection errors). A 404 is a healthy service answering "no such user".
- A minimum volume: the ratio is only judged over at least ``volume`` calls in the rolling ``window``
  — one failure out of one call is not an outage.
- Half-open admits exactly one probe, decided under a lock (threads, unlike JavaScript, interleave);
  every other caller gets ``BreakerOpen`` until the probe's outcome closes or re-opens the breaker.
- The call's timeout is the HTTP client's (``httpx.Timeout``), so a timed-out call is *aborted*, and
  the fallback serves timeouts as well as an open breaker (matched by type, never by message).

``pybreaker`` (the production library) sits beside it in the tests: it counts *consecutive* failures
(``fail_max``) rather than a ratio over a window, reads the wall clock, and holds one lock around every
call — which gives one probe in half-open, at the price of serialising all calls through the breaker.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar
from urllib.parse import quote

import httpx

T = TypeVar("T")

MAX_SECONDS = 24 * 3600.0  # a longer timeout/window is a units mistake (ms given as s), refused
BUCKETS = 10  # the rolling window is counted in this many slices (as Hystrix and opossum do)


class State(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class BreakerOpen(Exception):
    """The breaker refused the call without calling the dependency (open, or half-open with a probe
    already in flight). ``retry_after``: seconds until a probe may be let through."""

    def __init__(self, name: str, retry_after: float) -> None:
        super().__init__(f"circuit {name!r} is open; retry after {retry_after:.1f}s")
        self.name = name
        self.retry_after = retry_after


def seconds(name: str, value: object, *, maximum: float = MAX_SECONDS) -> float:
    """A positive, finite duration — or a ``ValueError`` naming the parameter."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number of seconds, got {type(value).__name__}")
    if not math.isfinite(value) or not 0 < value <= maximum:
        raise ValueError(f"{name} must be finite seconds in (0, {maximum:g}], got {value!r}")
    return float(value)


def dependency_unhealthy(exc: BaseException) -> bool:
    """Does this outcome say the dependency is unhealthy? 5xx, timeouts, connection errors: yes.
    A 4xx (the dependency answered, the request was wrong or the thing absent): no."""
    if isinstance(exc, httpx.HTTPStatusError):
        return exc.response.status_code >= 500
    return isinstance(exc, httpx.TransportError | TimeoutError | ConnectionError)


@dataclass(frozen=True)
class BreakerConfig:
    failure_ratio: float = 0.5  # open when failures / calls ≥ this over the window …
    volume: int = 10  # … once at least this many calls are in it
    window: float = 10.0  # seconds of outcomes the ratio looks at
    reset_timeout: float = 30.0  # seconds open before one probe is let through

    def __post_init__(self) -> None:
        ratio = self.failure_ratio
        if isinstance(ratio, bool) or not isinstance(ratio, int | float):
            raise ValueError(f"failure_ratio must be a number in (0, 1], got {ratio!r}")
        if not math.isfinite(ratio) or not 0 < ratio <= 1:
            raise ValueError(f"failure_ratio must be in (0, 1] (0.5 = 50 %), got {ratio!r}")
        if isinstance(self.volume, bool) or not isinstance(self.volume, int) or self.volume < 1:
            raise ValueError(f"volume must be an int ≥ 1, got {self.volume!r}")
        seconds("window", self.window)
        seconds("reset_timeout", self.reset_timeout)


class CircuitBreaker:
    """The state machine. ``is_failure`` decides which exceptions count against the dependency; the
    others (and returns) are successes: the dependency answered."""

    def __init__(
        self,
        config: BreakerConfig | None = None,
        *,
        name: str = "dependency",
        clock: Callable[[], float] = time.monotonic,
        is_failure: Callable[[BaseException], bool] = dependency_unhealthy,
    ) -> None:
        self.config = config or BreakerConfig()
        self.name = name
        self.clock = clock
        self.is_failure = is_failure
        self._lock = threading.Lock()
        self._state = State.CLOSED
        self._opened_at = 0.0
        self._probing = False
        # The window as BUCKETS slices of [start, calls, failures], oldest first, with running totals:
        # O(1) per call whatever the rate (a deque of every outcome made each call O(calls/window)).
        self._buckets: deque[list[float]] = deque()
        self._calls = 0
        self._failures = 0

    @property
    def state(self) -> State:
        """The state now (an open breaker whose reset time passed reads as half-open)."""
        with self._lock:
            if self._state is State.OPEN and self._reset_due():
                return State.HALF_OPEN
            return self._state

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        probe = self._admit()
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            self._settle(probe, failed=self.is_failure(exc))
            raise
        self._settle(probe, failed=False)
        return result

    def _reset_due(self) -> bool:
        return self.clock() >= self._opened_at + self.config.reset_timeout

    def _admit(self) -> bool:
        """Let the call through (True if it is the half-open probe) or raise ``BreakerOpen``.
        Check and claim happen under one lock: two threads must not both see "no probe yet"."""
        with self._lock:
            if self._state is State.OPEN and self._reset_due():
                self._state, self._probing = State.HALF_OPEN, False
            if self._state is State.CLOSED:
                return False
            if self._state is State.HALF_OPEN and not self._probing:
                self._probing = True
                return True
            retry_after = max(0.0, self._opened_at + self.config.reset_timeout - self.clock())
            raise BreakerOpen(self.name, retry_after)

    def _settle(self, probe: bool, *, failed: bool) -> None:
        with self._lock:
            now = self.clock()
            if probe:
                self._probing = False
                if failed:
                    self._open(now)
                else:
                    self._state = State.CLOSED
                    self._forget()  # a recovered dependency starts with a clean slate
                return
            if self._state is not State.CLOSED:
                return  # a call admitted before the breaker opened: its outcome is old news
            self._record(now, failed)
            calls, failures = self._calls, self._failures
            judged = failed and calls >= self.config.volume  # below the volume: too few to judge
            if judged and failures / calls >= self.config.failure_ratio:
                self._open(now)

    def _open(self, now: float) -> None:
        self._state, self._opened_at = State.OPEN, now
        self._forget()

    def _record(self, now: float, failed: bool) -> None:
        width = self.config.window / BUCKETS
        start = now - now % width
        if not self._buckets or self._buckets[-1][0] != start:
            self._buckets.append([start, 0, 0])
        self._buckets[-1][1] += 1
        self._buckets[-1][2] += failed
        self._calls += 1
        self._failures += failed
        # A slice leaves once all of it is older than the window.
        while self._buckets[0][0] + width <= now - self.config.window:
            _, calls, failures = self._buckets.popleft()
            self._calls -= int(calls)
            self._failures -= int(failures)

    def _forget(self) -> None:
        self._buckets.clear()
        self._calls = self._failures = 0


class UserNotFound(LookupError):
    """The users service answered 404: a fact about the user, never a reason to open the breaker."""


class UserClient:
    """The guide's ``UserClient`` fixed: the HTTP timeout aborts the call, 404 is a typed answer, and
    the cache serves both an open breaker and a failed call (5xx, timeout, connection refused)."""

    def __init__(
        self,
        base_url: str,
        *,
        breaker: CircuitBreaker | None = None,
        timeout: float = 3.0,
        cache: dict[str, Any] | None = None,
    ) -> None:
        self.http = httpx.Client(
            base_url=base_url, timeout=seconds("timeout", timeout, maximum=300)
        )
        self.breaker = breaker or CircuitBreaker(name="users")
        self.cache = cache if cache is not None else {}

    def fetch_user(self, user_id: str) -> Any:
        if not isinstance(user_id, str) or not 0 < len(user_id) <= 128:
            raise ValueError(
                f"a user id is a non-empty string of at most 128 characters: {user_id!r}"
            )
        # Quoted as one path segment: "../admin" must not walk out of /users/.
        response = self.http.get(f"/users/{quote(user_id, safe='')}")
        if response.status_code == 404:
            raise UserNotFound(user_id)
        response.raise_for_status()
        return response.json()

    def get_user(self, user_id: str) -> Any:
        """The user, fresh if the service answers, else the last copy seen (``None`` if none)."""
        try:
            user = self.breaker.call(self.fetch_user, user_id)
        except BreakerOpen:
            return self.cache.get(user_id)
        except (httpx.TransportError, httpx.HTTPStatusError) as exc:
            if not dependency_unhealthy(exc):
                raise
            return self.cache.get(user_id)
        self.cache[user_id] = user
        return user

    def close(self) -> None:
        self.http.close()
