"""Taught in notebooks/04_microservices_resilience.ipynb §3.

Exercise 04.4: retries that survive a blip without multiplying an outage.

Naive retries (three attempts, a fixed pause) turn a dependency's outage into three times its traffic,
in synchronised waves, just when it is least able to take it. Write:

``RetryBudget`` — a token bucket shared by every request to one dependency. It starts with
``reserve`` tokens. ``record_request()`` (called once per request, before its first attempt) adds
``ratio`` tokens, never holding more than ``max(reserve, 1)``. ``try_spend()`` takes one token for a
retry and returns ``True``, or returns ``False`` (retry refused) when fewer than one is left. Threads
share it: use ``self.lock``.

``send(http, method, url, budget, sleep, rng, clock, *, attempts, base, cap, deadline)`` — the answer
to ``http.request(method, url)`` after at most ``attempts`` attempts in total:

* retry only idempotent methods (``IDEMPOTENT_METHODS``: never a POST or PATCH), and only answers
  that retrying may fix: a status in ``RETRYABLE_STATUSES`` (502/503/504) or one of
  ``RETRYABLE_ERRORS`` (refused connection, timeout). Anything else is returned (or raised) at once; a
  retryable failure on the last attempt, or one the budget or deadline will not retry, is returned
  (a status) or re-raised (an error) as it is;
* before the ``k``-th retry (k = 0, 1, …) wait ``rng.uniform(0, min(cap, base * 2**k))`` seconds —
  *full jitter* — through the injected ``sleep`` (never ``time.sleep``);
* each retry spends a budget token (``budget.try_spend()``); no token, no retry;
* ``deadline`` (a ``clock()`` reading, or ``None``): if it has passed before an attempt, raise
  ``DeadlineExceeded`` without calling; never start a backoff that would end at or after it; pass
  each attempt ``timeout=`` the seconds that remain, so no attempt outlives the caller.

Refuse nonsense with ``ValueError``: ``attempts`` an int in 1..10, ``base`` and ``cap`` finite positive
seconds (``reference.microservices.breaker.seconds(name, value)`` checks one).
"""

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
        timeout = httpx.USE_CLIENT_DEFAULT if left is None else httpx.Timeout(left)
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
