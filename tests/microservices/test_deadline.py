"""Deadline propagation through a chain of three real services, A → B → C (C is the flaky upstream,
which records the headers it received): the budget shrinks at every hop, a spent budget is refused
without calling downstream, a hung downstream costs no more than the budget, hostile headers are 400s."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from reference.api_design.graphql.background import BackgroundServer, serve_in_background
from reference.microservices.deadline import HEADER, BadDeadline, hop_app, parse_budget
from reference.microservices.flaky import FlakyUpstream


@pytest.fixture(scope="module")
def chain_url(flaky_server: FlakyUpstream) -> Iterator[str]:
    """A (50 ms of work) → B (50 ms of work) → C; each hop keeps a 50 ms margin. A's URL."""
    b = serve_in_background(hop_app("B", flaky_server.url, work=0.05, margin=0.05), lifespan="off")
    a = serve_in_background(hop_app("A", b.url, work=0.05, margin=0.05), lifespan="off")
    servers: list[BackgroundServer] = [a, b]
    yield a.url
    flaky_server.release()
    for server in servers:
        server.stop()


@pytest.fixture
def chain(chain_url: str, flaky: FlakyUpstream) -> str:
    return chain_url


def test_each_hop_sees_a_smaller_budget(chain: str, flaky: FlakyUpstream) -> None:
    response = httpx.get(f"{chain}/chain", headers={HEADER: "2000"}, timeout=10)
    assert response.status_code == 200
    a = response.json()
    b = a["downstream"]
    c_budget = int(flaky.log()[0].headers[HEADER.lower()])
    assert 2000 >= a["budget_ms"] > b["budget_ms"] > c_budget > 0
    # each hop spent at least its work (50 ms) and its margin (50 ms)
    assert a["budget_ms"] - b["budget_ms"] >= 100
    assert b["budget_ms"] - c_budget >= 100


def test_a_spent_budget_is_refused_without_calling_downstream(
    chain: str, flaky: FlakyUpstream
) -> None:
    response = httpx.get(f"{chain}/chain", headers={HEADER: "0"}, timeout=10)
    assert response.status_code == 504
    assert response.headers["content-type"] == "application/problem+json"
    assert flaky.hits() == 0


def test_a_budget_too_small_for_the_chain_stops_before_the_last_hop(
    chain: str, flaky: FlakyUpstream
) -> None:
    """150 ms: A spends 100 (work + margin), B gets ~50 ms, spends it working, and does not call C."""
    response = httpx.get(f"{chain}/chain", headers={HEADER: "150"}, timeout=10)
    assert response.status_code == 504
    assert flaky.hits() == 0


def test_a_hung_last_hop_costs_the_budget_not_a_hang(chain: str, flaky: FlakyUpstream) -> None:
    flaky.set_faults(hang=True)
    response = httpx.get(f"{chain}/chain", headers={HEADER: "600"}, timeout=10)
    assert response.status_code == 504
    assert flaky.hits() == 1


@pytest.mark.parametrize(
    "value", ["abc", "-5", "nan", "inf", "1e309", "1.5", "", "9999999999", "３００", "300000001"]
)
def test_hostile_deadline_headers_are_400s(chain: str, flaky: FlakyUpstream, value: str) -> None:
    response = httpx.get(f"{chain}/chain", headers={HEADER.encode(): value.encode()}, timeout=10)
    assert response.status_code == 400
    assert response.json()["title"] == "Bad deadline"
    assert flaky.hits() == 0


def test_absent_header_gets_the_default_budget() -> None:
    assert parse_budget(None, default_ms=2000) == 2.0
    with pytest.raises(BadDeadline):
        parse_budget(" ", default_ms=2000)
