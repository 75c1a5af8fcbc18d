"""Decoy for 04.1: the half-open decision is checked, then claimed, outside the lock (the state is read, the clock consulted, the probe taken in separate steps), so several threads probe at once. Caught by test_one_probe_among_20_threads."""

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
        """Let this call through (``True`` if it is the half-open probe) or raise ``BreakerOpen``."""
        if self.state == "closed":
            return False
        if self.state == "open":
            now = self.clock()
            reopen_at = self.opened_at + self.config.reset_timeout
            if now < reopen_at:
                raise BreakerOpen(self.name, reopen_at - now)
            with self.lock:
                self.state, self.probing = "half_open", True
            return True
        raise BreakerOpen(self.name, 0.0)

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
            if not failed or len(self.outcomes) < self.config.volume:
                return
            failures = sum(1 for _, f in self.outcomes if f)
            if failures >= self.config.failure_ratio * len(self.outcomes):
                self.state, self.opened_at = "open", now
                self.outcomes.clear()
