"""Grading for exercise 04.1: a circuit breaker (exercises/04_microservices/circuit_breaker.py).

Graded by what reached a real flaky HTTP upstream (its own request count) and by what each caller got
back: an answer, the dependency's error, or the typed ``BreakerOpen``. Time is the injected manual
clock; the 20-thread probe test uses a clock, and a breaker whose ``state``/``probing`` reads, that yield
the CPU, so a breaker that checks the state and claims the probe in two steps (or under a fresh lock
per call) is caught in the act."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import httpx
import pytest

from course.testing.resilience import ManualClock
from reference.microservices.breaker import BreakerConfig, BreakerOpen
from reference.microservices.flaky import FlakyUpstream

VOLUME = 10
RESET = 30.0


@pytest.fixture
def http(flaky: FlakyUpstream) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=flaky.url, timeout=10) as client:
        yield client


def fetch(http: httpx.Client) -> Any:
    response = http.get("/users/1")
    response.raise_for_status()
    return response.json()


def breaker(exercise: ModuleType, clock: Any, volume: int = VOLUME) -> Any:
    config = BreakerConfig(failure_ratio=0.5, volume=volume, window=10.0, reset_timeout=RESET)
    return exercise.CircuitBreaker(config, clock=clock)


def drive(b: Any, http: httpx.Client, n: int) -> list[str]:
    """n calls in a row; each outcome: 'ok', the HTTP status, or 'open' (BreakerOpen raised)."""
    outcomes = []
    for _ in range(n):
        try:
            b.call(fetch, http)
            outcomes.append("ok")
        except BreakerOpen:
            outcomes.append("open")
        except httpx.HTTPStatusError as exc:
            outcomes.append(str(exc.response.status_code))
    return outcomes


def test_one_failure_is_not_an_outage(
    exercise: ModuleType, http: httpx.Client, flaky: FlakyUpstream, manual_clock: ManualClock
) -> None:
    b = breaker(exercise, manual_clock)
    flaky.set_faults(statuses=[503, 503, 503])
    assert drive(b, http, 3) == ["503", "503", "503"], "it opened before `volume` calls were seen"
    assert drive(b, http, 5) == ["ok"] * 5
    assert flaky.hits() == 8


def test_404s_never_open_it(
    exercise: ModuleType, http: httpx.Client, flaky: FlakyUpstream, manual_clock: ManualClock
) -> None:
    b = breaker(exercise, manual_clock)
    flaky.set_faults(default_status=404)
    assert drive(b, http, 3 * VOLUME) == ["404"] * (3 * VOLUME)
    flaky.set_faults(default_status=200)
    assert drive(b, http, 1) == ["ok"]
    assert flaky.hits() == 3 * VOLUME + 1


def test_an_outage_opens_it_and_spares_the_upstream(
    exercise: ModuleType, http: httpx.Client, flaky: FlakyUpstream, manual_clock: ManualClock
) -> None:
    b = breaker(exercise, manual_clock)
    flaky.set_faults(default_status=503)
    assert drive(b, http, VOLUME) == ["503"] * VOLUME
    for _ in range(100):
        with pytest.raises(BreakerOpen) as caught:  # the typed error, not a message to match
            b.call(fetch, http)
    assert flaky.hits() == VOLUME, "calls reached the upstream while the breaker was open"
    assert 0 < caught.value.retry_after <= RESET


def test_half_the_calls_failing_is_enough(
    exercise: ModuleType, http: httpx.Client, flaky: FlakyUpstream, manual_clock: ManualClock
) -> None:
    b = breaker(exercise, manual_clock)
    flaky.set_faults(statuses=[200, 503] * (VOLUME // 2))
    assert drive(b, http, VOLUME) == ["ok", "503"] * (VOLUME // 2)
    assert drive(b, http, 5) == ["open"] * 5
    assert flaky.hits() == VOLUME


def test_failures_older_than_the_window_are_forgotten(
    exercise: ModuleType, http: httpx.Client, flaky: FlakyUpstream, manual_clock: ManualClock
) -> None:
    b = breaker(exercise, manual_clock)
    flaky.set_faults(statuses=[503] * (VOLUME - 1))
    drive(b, http, VOLUME - 1)
    manual_clock.advance(10.5)  # the window is 10 s: every one of them is older than that
    flaky.set_faults(statuses=[200] * (VOLUME - 1) + [503])
    assert drive(b, http, VOLUME)[-1] == "503"
    assert drive(b, http, 3) == ["ok"] * 3, "1 failure in the last 10 calls opened it"


def test_a_low_failure_rate_never_opens_it(
    exercise: ModuleType, http: httpx.Client, flaky: FlakyUpstream, manual_clock: ManualClock
) -> None:
    b = breaker(exercise, manual_clock)
    flaky.set_faults(statuses=[503, 200, 200] * VOLUME)  # a third fail: below the 50 % ratio
    assert drive(b, http, 3 * VOLUME) == ["503", "ok", "ok"] * VOLUME, (
        "opened on a count, not a share"
    )
    assert flaky.hits() == 3 * VOLUME


def test_a_success_never_opens_it(
    exercise: ModuleType, http: httpx.Client, flaky: FlakyUpstream, manual_clock: ManualClock
) -> None:
    b = breaker(exercise, manual_clock)
    half = VOLUME // 2
    flaky.set_faults(statuses=[503] * half + [200] * (half + 1))  # the 10th call succeeds at 50 %
    assert drive(b, http, VOLUME + 1) == ["503"] * half + ["ok"] * (half + 1), (
        "a call that succeeded opened the breaker: only a failure may open it"
    )


def open_it(b: Any, http: httpx.Client, flaky: FlakyUpstream) -> None:
    flaky.set_faults(default_status=503)
    drive(b, http, VOLUME)
    assert drive(b, http, 1) == ["open"]
    flaky.reset()


def test_retry_after_counts_down(
    exercise: ModuleType, http: httpx.Client, flaky: FlakyUpstream, manual_clock: ManualClock
) -> None:
    b = breaker(exercise, manual_clock)
    open_it(b, http, flaky)
    manual_clock.advance(RESET - 7)
    with pytest.raises(BreakerOpen) as caught:
        b.call(fetch, http)
    assert caught.value.retry_after == pytest.approx(7), (
        "retry_after is the time left until the probe"
    )


def test_the_reset_timeout_runs_on_the_injected_clock(
    exercise: ModuleType, http: httpx.Client, flaky: FlakyUpstream, manual_clock: ManualClock
) -> None:
    b = breaker(exercise, manual_clock)
    open_it(b, http, flaky)
    manual_clock.advance(RESET - 0.5)
    assert drive(b, http, 1) == ["open"]
    manual_clock.advance(0.5)
    assert drive(b, http, 1) == ["ok"], "the reset time passed on the breaker's clock: probe"
    assert drive(b, http, 3) == ["ok"] * 3
    assert flaky.hits() == 4


class YieldingClock(ManualClock):
    """Every read gives the CPU away, as a real clock read or a log line may: check-then-act shows."""

    def __call__(self) -> float:
        time.sleep(0.002)
        return self.now


def twenty_together(b: Any, http: httpx.Client) -> list[str]:
    barrier = threading.Barrier(20)
    outcomes: list[str] = []

    def one() -> None:
        barrier.wait(timeout=30)
        outcomes.extend(drive(b, http, 1))

    threads = [threading.Thread(target=one) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return sorted(outcomes)


def yielding_state(cls: type) -> type:
    """The learner's breaker whose ``state`` and ``probing`` give the CPU away on every read: a
    check and a claim made under no lock (or a fresh ``threading.Lock()`` per call) interleave even
    with no clock read between them. Under the breaker's own lock the reads change nothing."""

    def attribute(name: str) -> property:
        def get(self: Any) -> Any:
            value = self.__dict__[name]
            time.sleep(0.001)  # read, then yield: another thread may change it before we act
            return value

        def put(self: Any, value: Any) -> None:
            self.__dict__[name] = value

        return property(get, put)

    return type(
        cls.__name__, (cls,), {"state": attribute("state"), "probing": attribute("probing")}
    )


def test_one_probe_among_20_threads(
    exercise: ModuleType, http: httpx.Client, flaky: FlakyUpstream
) -> None:
    clock = YieldingClock()
    config = BreakerConfig(failure_ratio=0.5, volume=VOLUME, window=10.0, reset_timeout=RESET)
    b = yielding_state(exercise.CircuitBreaker)(config, clock=clock)
    open_it(b, http, flaky)
    for round_ in range(3):  # failed probes re-open it: three chances to let two through
        clock.advance(RESET)
        flaky.reset()
        flaky.set_faults(default_status=503, latency=0.2)  # slow: the others arrive meanwhile
        outcomes = twenty_together(b, http)
        assert flaky.hits() == 1, f"round {round_}: {flaky.hits()} of 20 threads probed"
        assert outcomes == ["503"] + ["open"] * 19


def test_a_good_probe_closes_it_and_a_bad_one_reopens_it(
    exercise: ModuleType, http: httpx.Client, flaky: FlakyUpstream, manual_clock: ManualClock
) -> None:
    b = breaker(exercise, manual_clock)
    open_it(b, http, flaky)
    manual_clock.advance(RESET)
    flaky.set_faults(statuses=[503])
    assert drive(b, http, 2) == ["503", "open"], "a failed probe must re-open the breaker"
    manual_clock.advance(RESET - 1)
    assert drive(b, http, 1) == ["open"], "a failed probe starts a new reset period"
    manual_clock.advance(1)
    flaky.set_faults(statuses=[])
    assert drive(b, http, 2) == ["ok", "ok"]
    # closed with a clean slate: one failure after recovery does not re-open it
    flaky.set_faults(statuses=[503])
    assert drive(b, http, 3) == ["503", "ok", "ok"]


def test_errors_that_say_nothing_about_the_dependency_pass_through(
    exercise: ModuleType, manual_clock: ManualClock
) -> None:
    b = breaker(exercise, manual_clock, volume=2)

    def broken(_: object) -> None:
        raise KeyError("a bug in the caller's own code")

    for _ in range(5):
        with pytest.raises(KeyError):
            b.call(broken, None)
    assert b.call(lambda: "fine") == "fine"
