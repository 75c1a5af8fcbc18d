"""ABAC: the hand-written engine and the Casbin model pass the same tests — office hours in
Asia/Seoul from an injected clock (17:59 allowed, 18:00 denied, whatever the server's zone), owners
only, ownerless resources denied, admins always."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from reference.auth import abac, casbin_policy
from reference.auth.abac import Context, Decision, Resource, Subject

KST = ZoneInfo("Asia/Seoul")
Engine = Callable[[Context, abac.Clock], Decision]
ENGINES: dict[str, Engine] = {"reference": abac.evaluate, "casbin": casbin_policy.evaluate}


@pytest.fixture(params=list(ENGINES))
def evaluate(request: pytest.FixtureRequest) -> Engine:
    return ENGINES[request.param]


@pytest.fixture(params=["UTC", "Asia/Seoul", "America/New_York"])
def server_zone(request: pytest.FixtureRequest) -> Iterator[str]:
    before = os.environ.get("TZ")
    os.environ["TZ"] = request.param
    time.tzset()
    yield request.param
    if before is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = before
    time.tzset()


def at(hour: int, minute: int) -> abac.Clock:
    """A clock fixed at hour:minute KST, given as a UTC instant (the clock's zone must not matter)."""
    return lambda: datetime(2026, 3, 2, hour, minute, tzinfo=KST).astimezone(UTC)


OWN = Context(Subject("u1", "user"), Resource("doc", "u1"), "update")


@pytest.mark.parametrize(
    ("hour", "minute", "allowed"),
    [(8, 59, False), (9, 0, True), (17, 59, True), (18, 0, False), (23, 30, False)],
)
def test_office_hours_in_seoul(
    evaluate: Engine, server_zone: str, hour: int, minute: int, allowed: bool
) -> None:
    assert evaluate(OWN, at(hour, minute)).allowed is allowed


def test_owner_only(evaluate: Engine) -> None:
    other = Context(Subject("u2", "user"), Resource("doc", "u1"), "update")
    assert evaluate(other, at(10, 0)).allowed is False


def test_ownerless_resource_denied(evaluate: Engine) -> None:
    ownerless = Context(Subject("u1", "user"), Resource("doc", None), "update")
    assert evaluate(ownerless, at(10, 0)).allowed is False


def test_only_update_is_granted_to_owners(evaluate: Engine) -> None:
    delete = Context(Subject("u1", "user"), Resource("doc", "u1"), "delete")
    assert evaluate(delete, at(10, 0)).allowed is False


def test_admin_any_time_any_action(evaluate: Engine) -> None:
    admin = Context(Subject("a", "admin"), Resource("doc", None), "delete")
    assert evaluate(admin, at(3, 0)).allowed is True


def test_naive_clock_is_an_error() -> None:
    with pytest.raises(ValueError, match="aware"):
        abac.evaluate(OWN, lambda: datetime(2026, 3, 2, 10, 0))
