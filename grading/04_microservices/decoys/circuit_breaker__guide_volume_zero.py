"""Decoy for 04.1: the guide's opossum settings — volumeThreshold 0 (the first failure among one call is 100 %) and every error counts, 404s included. Caught by test_one_failure_is_not_an_outage."""

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
        except BaseException:
            self.settle(probe, failed=True)
            raise
        self.settle(probe, failed=False)
        return result

    def admit(self) -> bool:
        """Let this call through (``True`` if it is the half-open probe) or raise ``BreakerOpen``."""
        with self.lock:
            now = self.clock()
            reopen_at = self.opened_at + self.config.reset_timeout
            if self.state == "open" and now >= reopen_at:
                self.state = "half_open"
            if self.state == "closed":
                return False
            if self.state == "half_open" and not self.probing:
                self.probing = True
                return True
            raise BreakerOpen(self.name, max(0.0, reopen_at - now))

    def settle(self, probe: bool, *, failed: bool) -> None:
        """Record the outcome of a call ``admit`` let through; open or close the breaker."""
        with self.lock:
            now = self.clock()
            if probe:
                self.probing = False
                self.state = "open" if failed else "closed"
                self.opened_at = now if failed else self.opened_at
                self.outcomes.clear()
                return
            if self.state != "closed":
                return
            self.outcomes.append((now, failed))
            horizon = now - self.config.window
            while self.outcomes[0][0] <= horizon:
                self.outcomes.popleft()
            if not failed:
                return
            failures = sum(1 for _, f in self.outcomes if f)
            if failures >= self.config.failure_ratio * len(self.outcomes):
                self.state, self.opened_at = "open", now
                self.outcomes.clear()
