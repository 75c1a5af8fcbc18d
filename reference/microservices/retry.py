"""Retries that do not turn an outage into a flood: exponential backoff, full jitter, a retry budget.

Pattern: retry with capped exponential backoff and *full jitter* (sleep a uniform random time in
``[0, min(cap, base · 2^attempt)]``, AWS Architecture Blog, "Exponential Backoff and Jitter"), only
for idempotent methods and for answers that say "try again" (502/503/504, a refused connection, a
timeout), never past the caller's deadline — and a **retry budget**: a token bucket that every request
fills by ``ratio`` and every retry empties by one, so during a full outage the upstream sees at most
``(1 + ratio) · requests + reserve`` calls instead of ``attempts · requests``. Taught in
``notebooks/04_microservices_resilience.ipynb`` §3 (Exercise 04.4); Envoy's ``retry_budget`` on a
cluster's circuit breakers is the same idea at the proxy (the gateway notebook).

``sleep``, ``rng`` and ``clock`` are injected: tests and the notebook measure load without waiting.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from reference.microservices.breaker import seconds

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})  # RFC 9110 §9.2.2
RETRYABLE_STATUSES = frozenset({502, 503, 504})
# A 500 may be a bug that fails the same way every time; a 429 has its own Retry-After contract.
RETRYABLE_ERRORS = (httpx.ConnectError, httpx.TimeoutException, httpx.RemoteProtocolError)


class DeadlineExceeded(Exception):
    """The caller's deadline has passed (or would pass before the next attempt could start)."""


@dataclass
class RetryBudget:
    """Retries allowed ≈ ``ratio`` of requests, plus a ``reserve`` for a quiet service's rare blip."""

    ratio: float = 0.1
    reserve: float = 10.0
    tokens: float = field(init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        if isinstance(self.ratio, bool) or not isinstance(self.ratio, int | float):
            raise ValueError(f"ratio must be a number in [0, 1], got {self.ratio!r}")
        if not math.isfinite(self.ratio) or not 0 <= self.ratio <= 1:
            raise ValueError(f"ratio must be in [0, 1] (0.1 = 10 %), got {self.ratio!r}")
        if isinstance(self.reserve, bool) or not isinstance(self.reserve, int | float):
            raise ValueError(f"reserve must be a number ≥ 0, got {self.reserve!r}")
        if not math.isfinite(self.reserve) or not 0 <= self.reserve <= 1e6:
            raise ValueError(f"reserve must be finite in [0, 1e6], got {self.reserve!r}")
        self.tokens = float(self.reserve)

    def record_request(self) -> None:
        # Capped (at the reserve, or one retry with no reserve): a long healthy spell must not bank
        # thousands of retries for the outage that follows it.
        with self._lock:
            self.tokens = min(max(self.reserve, 1.0), self.tokens + self.ratio)

    def try_spend(self) -> bool:
        """Take one retry's token; ``False`` when the budget is spent (do not retry)."""
        with self._lock:
            if self.tokens >= 1:
                self.tokens -= 1
                return True
            return False


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3  # in total, the first included
    base: float = 0.1  # seconds: the first backoff's upper bound
    cap: float = 5.0  # seconds: no single backoff longer than this

    def __post_init__(self) -> None:
        if isinstance(self.attempts, bool) or not isinstance(self.attempts, int):
            raise ValueError(f"attempts must be an int in 1..10, got {self.attempts!r}")
        if not 1 <= self.attempts <= 10:
            raise ValueError(f"attempts must be in 1..10, got {self.attempts!r}")
        seconds("base", self.base, maximum=60)
        seconds("cap", self.cap, maximum=300)

    def backoff(self, retry: int, rng: random.Random) -> float:
        """Full jitter: uniform in [0, min(cap, base · 2^retry)] for the ``retry``-th retry (0-based)."""
        return rng.uniform(0, min(self.cap, self.base * 2**retry))


def _shorter(timeout: Any, remaining: float) -> httpx.Timeout:
    configured = httpx.Timeout(timeout)

    def cap(part: float | None) -> float:
        return remaining if part is None else min(part, remaining)

    return httpx.Timeout(
        connect=cap(configured.connect),
        read=cap(configured.read),
        write=cap(configured.write),
        pool=cap(configured.pool),
    )


@dataclass
class Retrier:
    """``request(method, url)`` through an ``httpx.Client`` with the policy, budget and deadline."""

    http: httpx.Client
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    budget: RetryBudget | None = field(default_factory=RetryBudget)
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)
    clock: Callable[[], float] = time.monotonic

    def request(
        self, method: str, url: str, *, deadline: float | None = None, **kwargs: Any
    ) -> httpx.Response:
        """The first answer that is not worth retrying, or the last one; ``deadline`` is a
        ``clock()`` reading after which no attempt starts and no backoff ends."""
        method = method.upper()
        retryable = method in IDEMPOTENT_METHODS
        if self.budget is not None:
            self.budget.record_request()
        timeout = kwargs.pop("timeout", self.http.timeout)
        for attempt in range(self.policy.attempts):
            remaining = None if deadline is None else deadline - self.clock()
            if remaining is not None and remaining <= 0:
                raise DeadlineExceeded(
                    f"{method} {url}: deadline passed before attempt {attempt + 1}"
                )
            # No attempt outlives the caller's deadline (nor the timeout it asked for, if shorter).
            limit = timeout if remaining is None else _shorter(timeout, remaining)
            last = attempt == self.policy.attempts - 1
            try:
                response = self.http.request(method, url, timeout=limit, **kwargs)
            except RETRYABLE_ERRORS:
                if last or not retryable or not self._may_retry(attempt, deadline):
                    raise
                continue
            if response.status_code not in RETRYABLE_STATUSES or last or not retryable:
                return response
            if not self._may_retry(attempt, deadline):
                return response
            response.close()
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _may_retry(self, attempt: int, deadline: float | None) -> bool:
        """Sleep the backoff and say yes — unless the deadline or the budget says no."""
        delay = self.policy.backoff(attempt, self.rng)
        if deadline is not None and self.clock() + delay >= deadline:
            return False  # sleeping would only end after the caller has given up
        if self.budget is not None and not self.budget.try_spend():
            return False
        self.sleep(delay)
        return True
