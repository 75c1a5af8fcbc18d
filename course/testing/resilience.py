"""Fixtures chapter 04's resilience tests and grading share (``tests/microservices/conftest.py`` and
``grading/04_microservices/conftest.py`` import them).

- ``flaky``: a real flaky HTTP upstream (:mod:`reference.microservices.flaky`) on a free loopback
  port, healthy with an empty hit log at the start of each test; the test injects faults and reads its
  hit count. One server per session (``flaky_server``): starting uvicorn per test would cost more than
  the tests.
- ``dead_url``: a loopback URL nothing listens on (connection refused: "the dependency is down").
- ``manual_clock``: a :class:`ManualClock` the test advances by hand (the breaker's injected clock).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from reference.microservices.flaky import FlakyUpstream


class ManualClock:
    """Seconds that move only when the test says so: the reset timeout passes without sleeping."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def manual_clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(scope="session")
def flaky_server() -> Iterator[FlakyUpstream]:
    from reference.microservices.flaky import serve_flaky

    with serve_flaky() as upstream:
        yield upstream


@pytest.fixture
def flaky(flaky_server: FlakyUpstream) -> Iterator[FlakyUpstream]:
    flaky_server.reset()
    yield flaky_server
    flaky_server.reset()  # releases a hang the test left behind


@pytest.fixture
def dead_url() -> str:
    from reference.setup.ports import free_port

    return f"http://127.0.0.1:{free_port()}"
