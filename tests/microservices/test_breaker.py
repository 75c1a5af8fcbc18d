"""The fixed breaker against the flaky upstream — and pybreaker beside it where its semantics allow.

The guide-defect properties (guide-defects.md §4.3): 404s never trip it; after ``volume`` calls with
≥ 50 % 5xx it opens and the next 100 calls reach the upstream 0 times; after the reset time exactly one
of 20 threads probes. pybreaker differs in two places, each pinned by a test here: it counts
*consecutive* failures (50 % alternating never opens it) and it serialises calls under one lock (a
successful probe lets the 19 queued callers through one after another).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pybreaker
import pytest

from course.testing.resilience import ManualClock
from reference.microservices.breaker import (
    BreakerConfig,
    BreakerOpen,
    CircuitBreaker,
    State,
    UserClient,
    UserNotFound,
    dependency_unhealthy,
)
from reference.microservices.flaky import FlakyUpstream

VOLUME = 10
PYBREAKER_RESET = 0.3  # pybreaker reads the wall clock: the shortest reset a loaded runner honours


@dataclass
class Subject:
    """One breaker under test, seen through what every test needs."""

    call: Callable[[], Any]
    pass_reset_time: Callable[[], None]
    rejected: tuple[type[Exception], ...]
    is_open: Callable[[], bool]


def _fetch(http: httpx.Client) -> Any:
    response = http.get("/users/1")
    response.raise_for_status()
    return response.json()


@pytest.fixture
def http(flaky: FlakyUpstream) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=flaky.url, timeout=5) as client:
        yield client


def ours(http: httpx.Client, clock: ManualClock) -> Subject:
    breaker = CircuitBreaker(BreakerConfig(volume=VOLUME, reset_timeout=30), clock=clock)
    return Subject(
        call=lambda: breaker.call(_fetch, http),
        pass_reset_time=lambda: clock.advance(30),
        rejected=(BreakerOpen,),
        is_open=lambda: breaker.state is State.OPEN,
    )


def production(http: httpx.Client, clock: ManualClock) -> Subject:
    breaker = pybreaker.CircuitBreaker(
        fail_max=VOLUME,
        reset_timeout=PYBREAKER_RESET,
        exclude=[lambda exc: not dependency_unhealthy(exc)],
    )
    return Subject(
        call=lambda: breaker.call(_fetch, http),
        pass_reset_time=lambda: time.sleep(PYBREAKER_RESET + 0.2),
        rejected=(pybreaker.CircuitBreakerError,),
        is_open=lambda: breaker.current_state == pybreaker.STATE_OPEN,
    )


BOTH = pytest.mark.parametrize("make", [ours, production], ids=["ours", "pybreaker"])


def _drive(subject: Subject, n: int) -> list[str]:
    """Call n times; the outcome of each: 'ok', an HTTP status, or 'rejected'."""
    outcomes = []
    for _ in range(n):
        try:
            subject.call()
            outcomes.append("ok")
        except subject.rejected:
            outcomes.append("rejected")
        except httpx.HTTPStatusError as exc:
            outcomes.append(str(exc.response.status_code))
    return outcomes


@BOTH
def test_404s_never_trip_it(
    make: Callable[..., Subject],
    http: httpx.Client,
    flaky: FlakyUpstream,
    manual_clock: ManualClock,
) -> None:
    subject = make(http, manual_clock)
    flaky.set_faults(default_status=404)
    assert _drive(subject, 50) == ["404"] * 50
    assert not subject.is_open()
    assert flaky.hits() == 50


@BOTH
def test_fewer_than_volume_failures_do_not_open_it(
    make: Callable[..., Subject],
    http: httpx.Client,
    flaky: FlakyUpstream,
    manual_clock: ManualClock,
) -> None:
    subject = make(http, manual_clock)
    flaky.set_faults(default_status=503)
    assert _drive(subject, VOLUME - 1) == ["503"] * (VOLUME - 1)
    assert not subject.is_open()


@BOTH
def test_an_outage_opens_it_and_the_next_100_calls_never_reach_the_upstream(
    make: Callable[..., Subject],
    http: httpx.Client,
    flaky: FlakyUpstream,
    manual_clock: ManualClock,
) -> None:
    subject = make(http, manual_clock)
    flaky.set_faults(default_status=503)
    _drive(subject, VOLUME)  # pybreaker raises its own error on the tripping call; ours the 503
    assert subject.is_open()
    assert flaky.hits() == VOLUME
    assert _drive(subject, 100) == ["rejected"] * 100
    assert flaky.hits() == VOLUME


def test_half_the_calls_failing_opens_ours_at_volume(
    http: httpx.Client, flaky: FlakyUpstream, manual_clock: ManualClock
) -> None:
    subject = ours(http, manual_clock)
    flaky.set_faults(statuses=[200, 503] * (VOLUME // 2))
    assert _drive(subject, VOLUME) == ["ok", "503"] * (VOLUME // 2)
    assert subject.is_open()
    assert _drive(subject, 100) == ["rejected"] * 100
    assert flaky.hits() == VOLUME


def test_pybreaker_counts_consecutive_failures_so_half_failing_never_opens_it(
    http: httpx.Client, flaky: FlakyUpstream, manual_clock: ManualClock
) -> None:
    subject = production(http, manual_clock)
    flaky.set_faults(statuses=[200, 503] * 20)
    _drive(subject, 40)
    assert not subject.is_open()  # the semantic difference, pinned


def test_old_failures_leave_the_window(
    http: httpx.Client, flaky: FlakyUpstream, manual_clock: ManualClock
) -> None:
    """9 failures, 11 s later 9 successes and 1 failure: 10 % of the window, not 10 of 19."""
    subject = ours(http, manual_clock)
    flaky.set_faults(statuses=[503] * 9)
    _drive(subject, 9)
    manual_clock.advance(11)
    flaky.set_faults(statuses=[200] * 9 + [503])
    _drive(subject, 10)
    assert not subject.is_open()


def _twenty_threads(subject: Subject, hung: FlakyUpstream | None = None) -> list[str]:
    """20 threads call at once. With ``hung`` (an upstream set to hang), the probe is held until the
    19 others have their answer, then released: no late thread can slip in after a good probe."""
    barrier = threading.Barrier(20)
    outcomes: list[str] = []

    def one() -> None:
        barrier.wait()
        outcomes.extend(_drive(subject, 1))

    threads = [threading.Thread(target=one) for _ in range(20)]
    for t in threads:
        t.start()
    if hung is not None:
        deadline = time.monotonic() + 30
        while len(outcomes) < 19 and time.monotonic() < deadline:
            time.sleep(0.01)
        hung.release()
    for t in threads:
        t.join(30)
    return sorted(outcomes)


def _open_it(subject: Subject, flaky: FlakyUpstream) -> None:
    flaky.set_faults(default_status=503)
    _drive(subject, VOLUME)
    assert subject.is_open()
    flaky.reset()


@BOTH
def test_after_the_reset_time_one_of_20_threads_probes_and_a_failed_probe_reopens(
    make: Callable[..., Subject],
    http: httpx.Client,
    flaky: FlakyUpstream,
    manual_clock: ManualClock,
) -> None:
    subject = make(http, manual_clock)
    _open_it(subject, flaky)
    subject.pass_reset_time()
    flaky.set_faults(
        default_status=503, latency=0.3
    )  # the probe is slow: the others arrive meanwhile
    outcomes = _twenty_threads(subject)
    assert flaky.hits() == 1
    # ours lets the probe's 503 through; pybreaker replaces it with "trial call failed" (its error)
    assert outcomes in (["503"] + ["rejected"] * 19, ["rejected"] * 20)
    assert subject.is_open()


def test_after_the_reset_time_one_of_20_threads_probes_and_a_good_probe_closes_ours(
    http: httpx.Client, flaky: FlakyUpstream, manual_clock: ManualClock
) -> None:
    subject = ours(http, manual_clock)
    _open_it(subject, flaky)
    manual_clock.advance(29.9)
    assert _drive(subject, 1) == ["rejected"]  # not yet
    manual_clock.advance(0.1)
    flaky.set_faults(hang=True)
    assert _twenty_threads(subject, hung=flaky) == ["ok"] + ["rejected"] * 19
    assert flaky.hits() == 1
    assert not subject.is_open()
    assert _drive(subject, 5) == ["ok"] * 5


def test_pybreaker_serialises_callers_behind_a_good_probe(
    http: httpx.Client, flaky: FlakyUpstream, manual_clock: ManualClock
) -> None:
    """Its one lock around every call: the 19 others wait for the probe, then all call in turn."""
    subject = production(http, manual_clock)
    _open_it(subject, flaky)
    subject.pass_reset_time()
    flaky.set_faults(latency=0.02)
    assert _twenty_threads(subject) == ["ok"] * 20
    assert flaky.hits() == 20


def test_open_error_is_typed_with_retry_after(
    http: httpx.Client, flaky: FlakyUpstream, manual_clock: ManualClock
) -> None:
    breaker = CircuitBreaker(BreakerConfig(volume=2, reset_timeout=30), clock=manual_clock)
    flaky.set_faults(default_status=503)
    for _ in range(2):
        with pytest.raises(httpx.HTTPStatusError):
            breaker.call(_fetch, http)
    manual_clock.advance(10)
    with pytest.raises(BreakerOpen) as caught:
        breaker.call(_fetch, http)
    assert caught.value.retry_after == pytest.approx(20)
    assert breaker.state is State.OPEN


# -- the UserClient: fallbacks for open AND timeout, 404 typed, timeout aborts -----------------------


@pytest.fixture
def users(flaky: FlakyUpstream, manual_clock: ManualClock) -> Iterator[UserClient]:
    breaker = CircuitBreaker(BreakerConfig(volume=2), clock=manual_clock)
    client = UserClient(flaky.url, breaker=breaker, timeout=0.3)
    yield client
    client.close()


def test_client_serves_the_cache_on_timeout_and_when_open(
    users: UserClient, flaky: FlakyUpstream
) -> None:
    assert users.get_user("1") == {"path": "/users/1", "hit": 1}
    flaky.set_faults(hang=True)
    assert users.get_user("1") == {"path": "/users/1", "hit": 1}  # the timeout: cache
    assert users.breaker.state is State.OPEN  # 1 failure in 2 calls: 50 %
    flaky.release()
    assert users.get_user("1") == {"path": "/users/1", "hit": 1}  # open: cache, no call
    assert flaky.hits() == 2


def test_client_404_is_a_typed_answer_not_a_failure(
    users: UserClient, flaky: FlakyUpstream
) -> None:
    flaky.set_faults(default_status=404)
    for _ in range(5):
        with pytest.raises(UserNotFound):
            users.get_user("ghost")
    assert users.breaker.state is State.CLOSED


def test_client_connection_refused_counts_and_falls_back(
    dead_url: str, manual_clock: ManualClock
) -> None:
    breaker = CircuitBreaker(BreakerConfig(volume=2), clock=manual_clock)
    client = UserClient(dead_url, breaker=breaker, cache={"1": {"stale": True}})
    assert client.get_user("1") == {"stale": True}
    assert client.get_user("2") is None
    assert breaker.state is State.OPEN
    client.close()


# -- hostile configuration ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("failure_ratio", 1.5),
        ("failure_ratio", 0),
        ("failure_ratio", -0.5),
        ("failure_ratio", math.nan),
        ("failure_ratio", 50),  # percent given where a ratio is meant
        ("failure_ratio", True),
        ("volume", 0),
        ("volume", 2.5),
        ("window", math.inf),
        ("window", -1),
        ("reset_timeout", math.nan),
        ("reset_timeout", 1e12),
        ("reset_timeout", "30"),
    ],
)
def test_bad_breaker_config_is_a_clear_error(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        BreakerConfig(**{field: value})  # type: ignore[arg-type]


@pytest.mark.parametrize("timeout", [math.nan, -1, 0, math.inf, 1e9])
def test_bad_client_timeout_is_a_clear_error(flaky: FlakyUpstream, timeout: float) -> None:
    with pytest.raises(ValueError, match="timeout"):
        UserClient(flaky.url, timeout=timeout)


def test_client_keeps_a_hostile_user_id_inside_users(
    users: UserClient, flaky: FlakyUpstream
) -> None:
    users.get_user("../admin?x=1#y")
    # Sent as one quoted segment (/users/..%2Fadmin%3F…): no /admin, no query string, no fragment.
    [hit] = flaky.log()
    assert hit.path.startswith("/users/..")
    assert hit.path.endswith("admin%3Fx=1%23y")
    assert flaky.hits("/admin") == 0


@pytest.mark.parametrize("user_id", ["", "x" * 129, 7, None])
def test_client_refuses_a_malformed_user_id_without_a_call(
    users: UserClient, flaky: FlakyUpstream, user_id: object
) -> None:
    with pytest.raises(ValueError, match="user id"):
        users.get_user(user_id)  # type: ignore[arg-type]
    assert flaky.hits() == 0
    assert users.breaker.state is State.CLOSED
