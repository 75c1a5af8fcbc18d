"""The guide's opossum ``UserClient`` (마이크로서비스 아키텍처 › 서비스 간 통신 (Circuit Breaker)), ported
faithfully to Python — defects included. The fixes are :mod:`reference.microservices.breaker`; the
notebook ``notebooks/04_microservices_resilience.ipynb`` runs both against a flaky upstream.

:class:`OpossumBreaker` is a minimal opossum ``CircuitBreaker``: the three options the guide sets
(``timeout: 3000, errorThresholdPercentage: 50, resetTimeout: 30000``) and opossum's defaults for the
rest — ``volumeThreshold: 0``, a 10 s rolling window, errors that are plain ``Error`` objects with a
``code`` (``EOPENBREAKER``, ``ETIMEDOUT``), a timeout that rejects the caller's promise while the
action keeps running (opossum cannot cancel a promise; the guide passes no ``AbortController``).
The reset timer is read from an injected clock instead of a ``setTimeout`` so tests need not wait 30 s.

The defects, each shown live by ``tests/microservices/test_breaker_guide.py``:

1. ``volumeThreshold`` 0: one failure among one call is 100 % — the first failure opens the breaker.
2. ``fetchUser`` throws on every non-2xx answer, so a 404 (the dependency is healthy, the user does
   not exist) counts as a failure and can open the breaker.
3. The fallback matches the message ``'Breaker is open'`` instead of the code ``EOPENBREAKER``: any
   error carrying that text (a downstream service's own breaker, a proxy's message) gets the cache.
4. A timeout gets no fallback: ``'Timed out after 3000ms'`` is rethrown to the caller.
5. A timeout does not abort the HTTP call: the request stays open on the upstream, holding a socket
   and a worker, after the caller has been told it failed.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

import httpx

BREAKER_IS_OPEN = "Breaker is open"  # opossum's message; the guide compares error.message to it


class OpossumError(Exception):
    """opossum's errors: a plain ``Error`` whose ``code`` says what happened."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


class OpossumBreaker:
    """opossum's state machine as the guide configures it (no lock: JavaScript has one thread)."""

    def __init__(
        self,
        action: Callable[..., Any],
        *,
        timeout: float = 3.0,
        error_threshold_percentage: float = 50,
        reset_timeout: float = 30.0,
        volume_threshold: int = 0,  # opossum's default
        rolling_count_timeout: float = 10.0,  # opossum's default window
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.action = action
        self.timeout = timeout
        self.error_threshold_percentage = error_threshold_percentage
        self.reset_timeout = reset_timeout
        self.volume_threshold = volume_threshold
        self.rolling_count_timeout = rolling_count_timeout
        self.clock = clock
        self.state = "closed"
        self.pending_close = False
        self.opened_at = 0.0
        self._window: deque[tuple[float, bool]] = deque()  # (when, failed)
        # The action runs beside the caller, like a promise opossum races against its timer.
        self._pool = ThreadPoolExecutor(max_workers=64, thread_name_prefix="opossum")
        self.running: set[Future[Any]] = set()

    def fire(self, *args: Any) -> Any:
        now = self.clock()
        if self.state == "open" and now >= self.opened_at + self.reset_timeout:
            self.state, self.pending_close = "half_open", True  # opossum's resetTimeout timer
        if self.state != "closed" and not self.pending_close:
            raise OpossumError(BREAKER_IS_OPEN, "EOPENBREAKER")
        self.pending_close = False
        future = self._pool.submit(self.action, *args)
        self.running.add(future)
        future.add_done_callback(self.running.discard)
        try:
            result = future.result(timeout=self.timeout)
        except FutureTimeout:
            self._fail()
            # Defect 5: the future is not cancelled (it could not be: the HTTP call is under way).
            raise OpossumError(
                f"Timed out after {round(self.timeout * 1000)}ms", "ETIMEDOUT"
            ) from None
        except Exception:
            self._fail()
            raise
        if self.state == "half_open":
            self.state = "closed"
        self._record(failed=False)
        return result

    def shutdown(self) -> None:
        """Wait for abandoned actions to finish (not opossum's API: tests and the notebook need it)."""
        self._pool.shutdown(wait=True)

    def _record(self, *, failed: bool) -> None:
        now = self.clock()
        self._window.append((now, failed))
        while self._window and self._window[0][0] <= now - self.rolling_count_timeout:
            self._window.popleft()

    def _fail(self) -> None:
        self._record(failed=True)
        if self.state == "half_open":
            self._open()
            return
        fires = len(self._window)
        failures = sum(failed for _, failed in self._window)
        # Defect 1: with volume_threshold 0 this holds after the very first failure.
        if (
            fires >= self.volume_threshold
            and failures / fires * 100 >= self.error_threshold_percentage
        ):
            self._open()

    def _open(self) -> None:
        self.state, self.opened_at = "open", self.clock()


class UserClient:
    """The guide's ``UserClient``: a breaker around ``fetchUser``, the cache when the breaker is open."""

    def __init__(
        self,
        base_url: str,
        cache: dict[str, Any] | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        timeout: float = 3.0,
    ) -> None:
        # fetch() has no timeout of its own: only the breaker's timer races it.
        self.http = httpx.Client(base_url=base_url, timeout=None)  # noqa: S113 - the defect, ported
        self.cache = cache if cache is not None else {}
        self.breaker = OpossumBreaker(
            self.fetch_user,
            timeout=timeout,
            error_threshold_percentage=50,
            reset_timeout=30.0,
            clock=clock,
        )

    def fetch_user(self, user_id: str) -> Any:
        res = self.http.get(f"/users/{user_id}")
        if not res.is_success:  # Defect 2: a 404 throws like a 503
            raise Exception(f"HTTP {res.status_code}")
        return res.json()

    def get_user(self, user_id: str) -> Any:
        try:
            return self.breaker.fire(user_id)
        except Exception as error:
            if str(error) == BREAKER_IS_OPEN:  # Defect 3 (and 4: a timeout falls through)
                return self.get_user_from_cache(user_id)
            raise

    def get_user_from_cache(self, user_id: str) -> Any:
        return self.cache.get(user_id)
