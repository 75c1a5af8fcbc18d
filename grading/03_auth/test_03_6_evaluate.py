"""Grading for exercise 03.6: ABAC with an injected clock and zoneinfo (exercises/03_auth/evaluate.py)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from types import ModuleType
from zoneinfo import ZoneInfo

import pytest

from reference.auth.abac import Clock, Context, Resource, Subject

KST = ZoneInfo("Asia/Seoul")
OWN = Context(Subject("u1", "user"), Resource("doc", "u1"), "update")


def at(hour: int, minute: int, zone: timezone | ZoneInfo = UTC) -> Clock:
    """A clock fixed at hour:minute Seoul time, expressed in ``zone``."""
    return lambda: datetime(2026, 3, 2, hour, minute, tzinfo=KST).astimezone(zone)


@pytest.fixture(params=["UTC", "Asia/Seoul", "America/Los_Angeles"])
def server_zone(request: pytest.FixtureRequest) -> Iterator[str]:
    """The process's local zone (what a naive ``datetime.now()`` or ``astimezone()`` uses)."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = request.param
    time.tzset()
    yield request.param
    if before is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = before
    time.tzset()


@pytest.mark.parametrize(
    ("hour", "minute", "allowed"),
    [(8, 59, False), (9, 0, True), (12, 0, True), (17, 59, True), (18, 0, False), (2, 0, False)],
)
def test_office_hours_in_seoul_on_any_server(
    exercise: ModuleType, server_zone: str, hour: int, minute: int, allowed: bool
) -> None:
    """The owner updating their document: allowed 09:00–17:59 Seoul time, denied at 18:00 and at
    night — the same answer on a UTC, Seoul or Los Angeles server."""
    assert exercise.evaluate(OWN, at(hour, minute)).allowed is allowed, server_zone


@pytest.mark.parametrize(
    "zone", [UTC, KST, ZoneInfo("America/New_York"), timezone(timedelta(hours=14))]
)
def test_the_clocks_zone_does_not_matter(exercise: ModuleType, zone: timezone | ZoneInfo) -> None:
    """17:59 and 18:00 Seoul time, handed over in different zones: the same two decisions."""
    assert exercise.evaluate(OWN, at(17, 59, zone)).allowed is True
    assert exercise.evaluate(OWN, at(18, 0, zone)).allowed is False


def test_ownerless_resource_is_nobodys(exercise: ModuleType) -> None:
    """``owner_id=None``: nobody may update it (the guide's ``undefined === undefined``)."""
    ownerless = Context(Subject("u1", "user"), Resource("doc", None), "update")
    assert exercise.evaluate(ownerless, at(10, 0)).allowed is False


def test_only_the_owner_and_only_update(exercise: ModuleType) -> None:
    """Someone else's document, or another action on one's own: denied."""
    other = Context(Subject("u2", "user"), Resource("doc", "u1"), "update")
    delete = Context(Subject("u1", "user"), Resource("doc", "u1"), "delete")
    assert exercise.evaluate(other, at(10, 0)).allowed is False
    assert exercise.evaluate(delete, at(10, 0)).allowed is False


def test_admin_any_time(exercise: ModuleType) -> None:
    """An admin deletes an ownerless resource at 03:00 Seoul time: allowed."""
    admin = Context(Subject("a", "admin"), Resource("doc", None), "delete")
    assert exercise.evaluate(admin, at(3, 0)).allowed is True


def test_managers_are_not_admins(exercise: ModuleType) -> None:
    """A manager is held to office hours like everyone but admins."""
    manager = Context(Subject("m", "manager"), Resource("doc", "m"), "update")
    assert exercise.evaluate(manager, at(20, 0)).allowed is False


def test_the_clock_is_the_one_given(exercise: ModuleType) -> None:
    """Two calls a 'day' apart by the injected clock decide differently: the function reads the
    clock it is given, not the machine's."""
    assert exercise.evaluate(OWN, at(10, 0)).allowed is True
    assert exercise.evaluate(OWN, at(22, 0)).allowed is False


def test_a_naive_clock_is_refused(exercise: ModuleType) -> None:
    """A naive datetime has no instant: ValueError, not a guess in the server's zone."""
    with pytest.raises(ValueError):  # noqa: PT011 - the learner's message is theirs
        exercise.evaluate(OWN, lambda: datetime(2026, 3, 2, 10, 0))
