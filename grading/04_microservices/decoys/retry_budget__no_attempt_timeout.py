"""Decoy for 04.4: the deadline bounds the pauses but each attempt keeps the client's default timeout, not the seconds left: a slow answer holds the caller long past its deadline. Caught by test_an_attempt_never_outlives_the_deadline."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable

import httpx

from reference.microservices.breaker import seconds
from reference.microservices.retry import (
    IDEMPOTENT_METHODS,
    RETRYABLE_ERRORS,
    RETRYABLE_STATUSES,
    DeadlineExceeded,
)

__all__ = [
    "IDEMPOTENT_METHODS",
    "RETRYABLE_ERRORS",
    "RETRYABLE_STATUSES",
    "DeadlineExceeded",
    "RetryBudget",
    "send",
]


class RetryBudget:
    """Retries ≈ ``ratio`` of requests, plus a ``reserve`` for a quiet dependency's odd blip."""

    def __init__(self, ratio: float = 0.1, reserve: float = 10.0) -> None:
        self.ratio = ratio
        self.reserve = reserve
        self.tokens = float(reserve)
        self.lock = threading.Lock()

    def record_request(self) -> None:
        """One more request: ``ratio`` more tokens, up to ``max(reserve, 1)``."""
        with self.lock:
            self.tokens = min(self.tokens + self.ratio, max(self.reserve, 1.0))

    def try_spend(self) -> bool:
        """Take a token for one retry (``True``), or refuse the retry (``False``)."""
        with self.lock:
            if self.tokens < 1:
                return False
            self.tokens -= 1
            return True


def send(
    http: httpx.Client,
    method: str,
    url: str,
    budget: RetryBudget,
    sleep: Callable[[float], None],
    rng: random.Random,
    clock: Callable[[], float],
    *,
    attempts: int = 3,
    base: float = 0.1,
    cap: float = 5.0,
    deadline: float | None = None,
) -> httpx.Response:
    """``http.request(method, url)`` with backoff, full jitter, the budget and the deadline."""
    if isinstance(attempts, bool) or not isinstance(attempts, int) or not 1 <= attempts <= 10:
        raise ValueError(f"attempts must be an int in 1..10, got {attempts!r}")
    base, cap = seconds("base", base), seconds("cap", cap)
    method = method.upper()
    idempotent = method in IDEMPOTENT_METHODS
    budget.record_request()
    retry = 0
    while True:
        left = None if deadline is None else deadline - clock()
        if left is not None and left <= 0:
            raise DeadlineExceeded(f"{method} {url}: the deadline passed")
        timeout = httpx.USE_CLIENT_DEFAULT
        error: Exception | None = None
        try:
            response = http.request(method, url, timeout=timeout)
        except RETRYABLE_ERRORS as exc:
            error = exc
        else:
            if response.status_code not in RETRYABLE_STATUSES:
                return response
        pause = rng.uniform(0, min(cap, base * 2**retry))
        may_retry = (
            idempotent
            and retry + 1 < attempts
            and (deadline is None or clock() + pause < deadline)
            and budget.try_spend()
        )
        if not may_retry:
            if error is not None:
                raise error
            return response
        if error is None:
            response.close()
        sleep(pause)
        retry += 1
