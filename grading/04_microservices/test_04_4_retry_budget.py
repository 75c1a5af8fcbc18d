"""Grading for exercise 04.4: retries with backoff, full jitter and a retry budget
(exercises/04_microservices/retry_budget.py).

Graded by the requests that reached a real flaky HTTP upstream (its own count: the load an outage
turns into), by the pauses the injected ``sleep`` was asked for, and by the injected clock: a pause
moves it, so "slept past the deadline" is a reading, not a timing."""

from __future__ import annotations

import contextlib
import math
import random
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import httpx
import pytest

from course.testing.resilience import ManualClock
from reference.microservices.flaky import FlakyUpstream
from reference.microservices.retry import DeadlineExceeded

MAX_SLEEPS = 2000  # more pauses than any sound answer asks for in one test: retries without end


class Sleeps:
    """The injected sleep: records each pause and moves the manual clock by it, instantly."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.pauses: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.pauses.append(seconds)
        if len(self.pauses) > MAX_SLEEPS:
            raise RuntimeError("retries without end: more than 2000 pauses")
        self.clock.advance(seconds)


@pytest.fixture
def http(flaky: FlakyUpstream) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=flaky.url, timeout=10) as client:
        yield client


@pytest.fixture
def sleeps(manual_clock: ManualClock) -> Sleeps:
    return Sleeps(manual_clock)


def sender(exercise: ModuleType, http: httpx.Client, sleeps: Sleeps, **options: Any) -> Any:
    budget = options.pop("budget", None) or exercise.RetryBudget(ratio=1.0, reserve=1000)

    def send(method: str = "GET", url: str = "/users/1", **more: Any) -> httpx.Response:
        settings = {"attempts": 3, "base": 0.1, "cap": 1.0, **options, **more}
        return exercise.send(  # type: ignore[no-any-return]
            http,
            method,
            url,
            budget=budget,
            sleep=sleeps,
            rng=settings.pop("rng", random.Random(4)),
            clock=sleeps.clock,
            **settings,
        )

    return send


def test_a_get_is_retried_through_a_blip(
    exercise: ModuleType, http: httpx.Client, flaky: FlakyUpstream, sleeps: Sleeps
) -> None:
    send = sender(exercise, http, sleeps)
    flaky.set_faults(statuses=[503, 502])
    assert send().status_code == 200
    assert flaky.hits() == 3
    assert len(sleeps.pauses) == 2


@pytest.mark.parametrize("method", ["POST", "PATCH", "post"])
def test_a_non_idempotent_request_is_sent_once(
    exercise: ModuleType, http: httpx.Client, flaky: FlakyUpstream, sleeps: Sleeps, method: str
) -> None:
    send = sender(exercise, http, sleeps)
    flaky.set_faults(default_status=503)
    assert send(method, "/orders").status_code == 503
    assert flaky.hits() == 1, f"a {method} was retried: the order may now exist twice"


def test_a_timed_out_post_is_not_sent_again(
    exercise: ModuleType, http: httpx.Client, flaky: FlakyUpstream, sleeps: Sleeps
) -> None:
    """A POST that timed out may have run: it is raised, not retried (an error is no licence to
    resend a non-idempotent request)."""
    send = sender(exercise, http, sleeps)
    flaky.set_faults(latency=1.0)
    with pytest.raises((httpx.TimeoutException, DeadlineExceeded)):
        send("POST", "/orders", deadline=sleeps.clock() + 0.3)
    assert flaky.hits(method="POST") == 1, "a timed-out POST was sent again: two orders"


@pytest.mark.parametrize("status", [400, 404, 409, 429, 500])
def test_answers_a_retry_cannot_fix_are_returned_at_once(
    exercise: ModuleType, http: httpx.Client, flaky: FlakyUpstream, sleeps: Sleeps, status: int
) -> None:
    send = sender(exercise, http, sleeps)
    flaky.set_faults(default_status=status)
    assert send().status_code == status
    assert flaky.hits() == 1
    assert sleeps.pauses == []


def test_an_outage_is_not_multiplied(
    exercise: ModuleType, http: httpx.Client, flaky: FlakyUpstream, sleeps: Sleeps
) -> None:
    """100 GETs during a total outage, 3 attempts each: the budget (10 % + a reserve of 10) allows
    at most 100 + 10 + 10 upstream calls where plain retries make 300."""
    send = sender(exercise, http, sleeps, budget=exercise.RetryBudget(ratio=0.1, reserve=10))
    flaky.set_faults(default_status=503)
    for _ in range(100):
        assert send().status_code == 503
    assert 100 < flaky.hits() <= 120, f"{flaky.hits()} upstream calls for 100 requests"


def test_a_quiet_spell_does_not_bank_retries_for_the_next_outage(
    exercise: ModuleType, http: httpx.Client, flaky: FlakyUpstream, sleeps: Sleeps
) -> None:
    """100 good requests, then an outage of 50: the bucket holds at most max(reserve, 1) tokens, so
    at most 50 + 5 (ratio) + 5 (reserve) calls — not the 10 extra an uncapped bucket banked."""
    send = sender(exercise, http, sleeps, budget=exercise.RetryBudget(ratio=0.1, reserve=5))
    for _ in range(100):
        send()
    flaky.reset()
    flaky.set_faults(default_status=503)
    for _ in range(50):
        send()
    assert flaky.hits() <= 60, f"{flaky.hits()} upstream calls for 50 requests"


def test_refused_retries_cost_no_budget(
    exercise: ModuleType, http: httpx.Client, flaky: FlakyUpstream, sleeps: Sleeps
) -> None:
    """A token pays for a retry that happens: failed POSTs and last attempts (never retried) leave
    the budget as it was, so the next GET's blip is still retried."""
    send = sender(exercise, http, sleeps, budget=exercise.RetryBudget(ratio=0.1, reserve=2))
    flaky.set_faults(default_status=503)
    for _ in range(10):
        assert send("POST", "/orders").status_code == 503
        assert send(attempts=1).status_code == 503
    flaky.set_faults(statuses=[503], default_status=200)
    assert send().status_code == 200, "the budget was spent on retries that never happened"


def test_the_budget_refills_at_its_own_ratio(
    exercise: ModuleType, http: httpx.Client, flaky: FlakyUpstream, sleeps: Sleeps
) -> None:
    """ratio=0.5: two requests earn a retry (a 10 % hard-coded earns one in ten)."""
    send = sender(exercise, http, sleeps, budget=exercise.RetryBudget(ratio=0.5, reserve=1))
    flaky.set_faults(statuses=[503, 200, 200] * 10)  # every other request meets one blip
    assert [send().status_code for _ in range(20)] == [200] * 20


def test_a_steady_trickle_of_blips_is_still_retried(
    exercise: ModuleType, http: httpx.Client, flaky: FlakyUpstream, sleeps: Sleeps
) -> None:
    """A small reserve: the budget must refill from the requests (10 %), not only spend."""
    send = sender(exercise, http, sleeps, budget=exercise.RetryBudget(ratio=0.1, reserve=2))
    flaky.set_faults(statuses=([503] + [200] * 9) * 6)
    assert [send().status_code for _ in range(54)] == [200] * 54


def test_backoff_is_exponential_capped_and_fully_jittered(
    exercise: ModuleType, http: httpx.Client, flaky: FlakyUpstream, sleeps: Sleeps
) -> None:
    send = sender(exercise, http, sleeps, attempts=6, base=0.1, cap=1.0)
    flaky.set_faults(default_status=503)
    runs = 40
    for _ in range(runs):
        send(rng=random.Random(len(sleeps.pauses)))
    assert len(sleeps.pauses) == runs * 5
    for k in range(5):
        column = sleeps.pauses[k::5]
        bound = min(1.0, 0.1 * 2**k)
        assert all(0 <= p <= bound for p in column), f"retry {k}: a pause outside [0, {bound}]"
        assert min(column) < 0.25 * bound, f"retry {k}: never near 0 — not full jitter"
        assert max(column) > 0.75 * bound, f"retry {k}: never near {bound} — not exponential"


def test_the_jitter_comes_from_the_injected_rng(
    exercise: ModuleType, http: httpx.Client, flaky: FlakyUpstream, sleeps: Sleeps
) -> None:
    """The same rng seed, the same pauses: the injected rng is what makes a run reproducible."""
    send = sender(exercise, http, sleeps, attempts=4)
    flaky.set_faults(default_status=503)
    send(rng=random.Random(7))
    send(rng=random.Random(7))
    assert len(sleeps.pauses) == 6
    assert sleeps.pauses[:3] == sleeps.pauses[3:], "the pauses did not come from the given rng"


def test_an_attempt_never_outlives_the_deadline(
    exercise: ModuleType, http: httpx.Client, flaky: FlakyUpstream, sleeps: Sleeps
) -> None:
    """0.3 s left, a 1 s answer: the attempt is given timeout=0.3 and gives up (the client's own
    10 s timeout would wait for the answer, long after the caller gave up)."""
    send = sender(exercise, http, sleeps, attempts=1)
    flaky.set_faults(latency=1.0)
    with pytest.raises((httpx.TimeoutException, DeadlineExceeded)):
        send(deadline=sleeps.clock() + 0.3)


def test_no_pause_ends_past_the_deadline(
    exercise: ModuleType, http: httpx.Client, flaky: FlakyUpstream, sleeps: Sleeps
) -> None:
    send = sender(exercise, http, sleeps, attempts=10, base=0.2, cap=5.0)
    flaky.set_faults(default_status=503)
    for seed in range(10):
        deadline = sleeps.clock() + 0.5
        with contextlib.suppress(DeadlineExceeded):
            send(deadline=deadline, rng=random.Random(seed))
        assert sleeps.clock() < deadline, "slept past the caller's deadline"


def test_a_passed_deadline_is_refused_without_a_call(
    exercise: ModuleType, http: httpx.Client, flaky: FlakyUpstream, sleeps: Sleeps
) -> None:
    send = sender(exercise, http, sleeps)
    with pytest.raises(DeadlineExceeded):
        send(deadline=sleeps.clock() - 0.001)
    assert flaky.hits() == 0


def test_a_refused_connection_is_retried_then_raised(
    exercise: ModuleType, dead_url: str, sleeps: Sleeps
) -> None:
    with httpx.Client(base_url=dead_url, timeout=5) as http:
        send = sender(exercise, http, sleeps)
        with pytest.raises(httpx.ConnectError):
            send()
    assert len(sleeps.pauses) == 2


@pytest.mark.parametrize(
    "options",
    [
        {"attempts": 0},
        {"attempts": 10**6},
        {"attempts": 2.5},
        {"attempts": True},
        {"base": math.nan},
        {"base": -0.1},
        {"cap": math.inf},
    ],
)
def test_nonsense_settings_are_refused(
    exercise: ModuleType,
    http: httpx.Client,
    flaky: FlakyUpstream,
    sleeps: Sleeps,
    options: dict[str, Any],
) -> None:
    send = sender(exercise, http, sleeps)
    with pytest.raises(ValueError, match=next(iter(options))):
        send(**options)
    assert flaky.hits() == 0
