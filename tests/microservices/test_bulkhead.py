"""The bulkhead against the flaky upstream: a hung dependency holds only its own slots, the extra
callers are refused at once (never queued behind the hang), and another dependency is untouched."""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator

import httpx
import pytest

from reference.microservices.bulkhead import Bulkhead, BulkheadFull
from reference.microservices.flaky import FlakyUpstream


@pytest.fixture
def http(flaky: FlakyUpstream) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=flaky.url, timeout=10) as client:
        yield client


def test_a_hung_dependency_holds_only_its_slots(http: httpx.Client, flaky: FlakyUpstream) -> None:
    slow, fast = Bulkhead("slow", 5), Bulkhead("fast", 5)
    flaky.set_faults(hang=True)
    outcomes: list[str] = []
    started = threading.Barrier(21)

    def one() -> None:
        started.wait(10)
        try:
            slow.call(http.get, "/slow")
            outcomes.append("answered")
        except BulkheadFull:
            outcomes.append("rejected")

    threads = [threading.Thread(target=one) for _ in range(20)]
    for t in threads:
        t.start()
    started.wait(10)
    # The 15 refused callers return while the 5 admitted ones are still hung.
    for _ in range(500):
        if len(outcomes) == 15 and flaky.hits("/slow") == 5:
            break
        threading.Event().wait(0.01)
    assert sorted(outcomes) == ["rejected"] * 15
    assert flaky.hits("/slow") == 5
    assert slow.in_flight == 5
    flaky.set_faults(hang=False)  # the fast dependency is served by the same upstream here
    assert fast.call(http.get, "/fast").status_code == 200
    for t in threads:
        t.join(10)
    assert sorted(outcomes) == ["answered"] * 5 + ["rejected"] * 15
    assert slow.in_flight == 0
    assert slow.call(http.get, "/slow").status_code == 200  # slots given back


def test_a_slot_is_given_back_when_the_call_raises(dead_url: str) -> None:
    bulkhead = Bulkhead("dead", 1)
    with httpx.Client(base_url=dead_url) as http:
        for _ in range(3):
            with pytest.raises(httpx.ConnectError):
                bulkhead.call(http.get, "/")
    assert bulkhead.in_flight == 0
    assert bulkhead.rejected == 0


@pytest.mark.parametrize(
    ("limit", "max_wait", "field"),
    [
        (0, 0, "limit"),
        (True, 0, "limit"),
        (1.5, 0, "limit"),
        (10**9, 0, "limit"),
        (5, -1, "max_wait"),
        (5, math.nan, "max_wait"),
        (5, math.inf, "max_wait"),
    ],
)
def test_bad_settings_are_a_clear_error(limit: object, max_wait: object, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        Bulkhead("x", limit, max_wait=max_wait)  # type: ignore[arg-type]
