"""Decoy for 04.1: opens on a count of failures (volume × ratio = 5) in the window instead of a share of the calls: 5 failures among 13 calls (38 %) open it. Caught by test_a_low_failure_rate_never_opens_it."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from typing import Any, TypeVar

from reference.microservices.breaker import BreakerConfig, BreakerOpen, dependency_unhealthy

__all__ = ["BreakerConfig", "BreakerOpen", "CircuitBreaker", "dependency_unhealthy"]

T = TypeVar("T")


class CircuitBreaker:
    """closed → open → half-open → closed/open, on an injected clock."""

    def __init__(
        self,
        config: BreakerConfig,
        *,
        clock: Callable[[], float],
        name: str = "dependency",
        is_failure: Callable[[BaseException], bool] = dependency_unhealthy,
    ) -> None:
        self.config = config
        self.clock = clock
        self.name = name
        self.is_failure = is_failure
        self.lock = threading.Lock()
        self.state = "closed"  # "closed" | "open" | "half_open"
        self.opened_at = 0.0
        self.probing = False  # a half-open probe is in flight
        self.outcomes: deque[tuple[float, bool]] = deque()  # (when, failed), oldest first

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        probe = self.admit()
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            self.settle(probe, failed=self.is_failure(exc))
            raise
        self.settle(probe, failed=False)
        return result

    def admit(self) -> bool:
        return admit(self)

    def settle(self, probe: bool, *, failed: bool) -> None:
        settle(self, probe, failed)


def admit(breaker: CircuitBreaker) -> bool:
    """Let a call through (``True``: it is the half-open probe), or raise ``BreakerOpen``."""
    with breaker.lock:
        now = breaker.clock()
        reopen_at = breaker.opened_at + breaker.config.reset_timeout
        if breaker.state == "open" and now >= reopen_at:
            breaker.state = "half_open"
        if breaker.state == "closed":
            return False
        if breaker.state == "half_open" and not breaker.probing:
            breaker.probing = True
            return True
        raise BreakerOpen(breaker.name, max(0.0, reopen_at - now))


def settle(breaker: CircuitBreaker, probe: bool, failed: bool) -> None:
    """Record the outcome of a call ``admit`` let through; open or close the breaker."""
    with breaker.lock:
        now = breaker.clock()
        if probe:
            breaker.probing = False
            breaker.state = "open" if failed else "closed"
            breaker.opened_at = now if failed else breaker.opened_at
            breaker.outcomes.clear()
            return
        if breaker.state != "closed":
            return
        breaker.outcomes.append((now, failed))
        horizon = now - breaker.config.window
        while breaker.outcomes[0][0] <= horizon:
            breaker.outcomes.popleft()
        if not failed or len(breaker.outcomes) < breaker.config.volume:
            return
        failures = sum(1 for _, f in breaker.outcomes if f)
        if failures >= breaker.config.failure_ratio * breaker.config.volume:
            breaker.state, breaker.opened_at = "open", now
            breaker.outcomes.clear()
