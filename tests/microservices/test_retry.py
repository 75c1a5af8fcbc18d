"""Retries against the flaky upstream: which requests are retried, how long they back off, and how
much load an outage turns into (requests that reached the upstream), with and without a budget."""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from course.testing.resilience import ManualClock
from reference.microservices.flaky import FlakyUpstream
from reference.microservices.retry import (
    DeadlineExceeded,
    Retrier,
    RetryBudget,
    RetryPolicy,
)


@pytest.fixture
def http(flaky: FlakyUpstream) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=flaky.url, timeout=5) as client:
        yield client


class Sleeps:
    """An injected sleep that records the backoffs and moves the manual clock instead of waiting."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.delays: list[float] = []

    def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        self.clock.advance(delay)


def retrier(
    http: httpx.Client, clock: ManualClock, budget: RetryBudget | None = None, attempts: int = 3
) -> tuple[Retrier, Sleeps]:
    sleeps = Sleeps(clock)
    r = Retrier(
        http,
        RetryPolicy(attempts=attempts, base=0.1, cap=1.0),
        budget,
        sleep=sleeps,
        rng=random.Random(1),
        clock=clock,
    )
    return r, sleeps


def test_get_is_retried_through_a_blip(
    http: httpx.Client, flaky: FlakyUpstream, manual_clock: ManualClock
) -> None:
    r, sleeps = retrier(http, manual_clock)
    flaky.set_faults(statuses=[503, 502])
    assert r.request("GET", "/users/1").status_code == 200
    assert flaky.hits() == 3
    assert len(sleeps.delays) == 2
    assert 0 <= sleeps.delays[0] <= 0.1
    assert 0 <= sleeps.delays[1] <= 0.2


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_non_idempotent_methods_are_never_retried(
    http: httpx.Client, flaky: FlakyUpstream, manual_clock: ManualClock, method: str
) -> None:
    r, sleeps = retrier(http, manual_clock)
    flaky.set_faults(default_status=503)
    assert r.request(method, "/orders").status_code == 503
    assert flaky.hits() == 1
    assert sleeps.delays == []


@pytest.mark.parametrize("status", [400, 404, 409, 500, 501])
def test_answers_that_retrying_cannot_fix_are_returned_at_once(
    http: httpx.Client, flaky: FlakyUpstream, manual_clock: ManualClock, status: int
) -> None:
    r, _ = retrier(http, manual_clock)
    flaky.set_faults(default_status=status)
    assert r.request("GET", "/users/1").status_code == status
    assert flaky.hits() == 1


def test_refused_connection_is_retried_then_raised(
    dead_url: str, manual_clock: ManualClock
) -> None:
    with httpx.Client(base_url=dead_url) as http:
        r, sleeps = retrier(http, manual_clock)
        with pytest.raises(httpx.ConnectError):
            r.request("GET", "/users/1")
    assert len(sleeps.delays) == 2


def test_backoff_is_fully_jittered_and_capped() -> None:
    policy = RetryPolicy(attempts=10, base=0.1, cap=1.0)
    rng = random.Random(3)
    delays = [[policy.backoff(k, rng) for k in range(8)] for _ in range(200)]
    for k in range(8):
        column = [row[k] for row in delays]
        bound = min(1.0, 0.1 * 2**k)
        assert all(0 <= d <= bound for d in column)
        assert min(column) < bound * 0.1  # full jitter reaches near zero …
        assert max(column) > bound * 0.9  # … and near the bound: spread, not "exp plus a bit"


def test_an_outage_triples_the_load_without_a_budget_and_not_with_one(
    http: httpx.Client, flaky: FlakyUpstream, manual_clock: ManualClock
) -> None:
    flaky.set_faults(default_status=503)
    unbudgeted, _ = retrier(http, manual_clock, budget=None)
    for _ in range(100):
        unbudgeted.request("GET", "/users/1")
    assert flaky.hits() == 300

    flaky.reset()
    flaky.set_faults(default_status=503)
    budgeted, _ = retrier(http, manual_clock, budget=RetryBudget(ratio=0.1, reserve=10))
    for _ in range(100):
        assert budgeted.request("GET", "/users/1").status_code == 503
    assert flaky.hits() <= 100 + 10 + 10  # requests + ratio · requests + reserve


def test_budget_leaves_a_blip_alone(
    http: httpx.Client, flaky: FlakyUpstream, manual_clock: ManualClock
) -> None:
    r, _ = retrier(http, manual_clock, budget=RetryBudget(ratio=0.1, reserve=10))
    flaky.set_faults(error_rate=0.05, seed=5)
    statuses = [r.request("GET", "/users/1").status_code for _ in range(100)]
    assert statuses == [200] * 100


def test_no_backoff_sleeps_past_the_deadline(
    http: httpx.Client, flaky: FlakyUpstream, manual_clock: ManualClock
) -> None:
    r, _ = retrier(http, manual_clock, attempts=10)
    flaky.set_faults(default_status=503)
    deadline = manual_clock() + 0.5
    assert r.request("GET", "/users/1", deadline=deadline).status_code == 503
    assert manual_clock() < deadline
    assert 1 <= flaky.hits() < 10


def test_a_passed_deadline_is_refused_without_a_call(
    http: httpx.Client, flaky: FlakyUpstream, manual_clock: ManualClock
) -> None:
    r, _ = retrier(http, manual_clock)
    with pytest.raises(DeadlineExceeded):
        r.request("GET", "/users/1", deadline=manual_clock() - 0.001)
    assert flaky.hits() == 0


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"ratio": math.nan}, "ratio"),
        ({"ratio": 2}, "ratio"),
        ({"ratio": -0.1}, "ratio"),
        ({"reserve": -1}, "reserve"),
        ({"reserve": math.inf}, "reserve"),
    ],
)
def test_bad_budget_is_a_clear_error(kwargs: dict[str, float], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        RetryBudget(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"attempts": 0}, "attempts"),
        ({"attempts": 1000}, "attempts"),
        ({"attempts": True}, "attempts"),
        ({"base": math.nan}, "base"),
        ({"base": -1.0}, "base"),
        ({"cap": 1e9}, "cap"),
    ],
)
def test_bad_policy_is_a_clear_error(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


def test_an_attempt_never_outlives_the_deadline(flaky: FlakyUpstream) -> None:
    """Real clock, a client with no timeout of its own and a hung upstream: the deadline alone
    must end the attempt (otherwise the thread below is still waiting when the join gives up)."""
    errors: list[BaseException] = []

    def call() -> None:
        with httpx.Client(base_url=flaky.url, timeout=None) as http:  # noqa: S113 - the point
            r = Retrier(http, RetryPolicy(attempts=3, base=0.01, cap=0.02), None)
            try:
                r.request("GET", "/users/1", deadline=time.monotonic() + 0.4)
            except (httpx.TimeoutException, DeadlineExceeded) as exc:
                errors.append(exc)

    flaky.set_faults(hang=True)
    worker = threading.Thread(target=call, daemon=True)
    worker.start()
    worker.join(15)  # generous: the deadline is 0.4 s
    assert not worker.is_alive(), "the attempt outlived the deadline"
    assert len(errors) == 1
    assert flaky.hits() == 1
