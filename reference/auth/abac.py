"""Attribute-based access control: policies over subject, resource, action and environment.

The pattern: a decision is a pure function of a context and an injected clock. Time rules are
stated in the zone the business means (office hours in Asia/Seoul), computed with ``zoneinfo`` from
the clock's aware instant — never from the server's local zone, so a UTC server and a Seoul server
decide alike. Deny rules win; no allow rule means deny; a resource with no owner is nobody's (the
guide's ``ownerId === user.id`` was true when both were ``undefined``). Taught in
``notebooks/03_auth_access.ipynb``; :mod:`reference.auth.casbin_policy` states the same rules in
Casbin and passes the same tests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

OFFICE_ZONE = ZoneInfo("Asia/Seoul")
OFFICE_OPENS, OFFICE_CLOSES = time(9, 0), time(18, 0)

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Subject:
    id: str
    role: str
    department: str | None = None


@dataclass(frozen=True)
class Resource:
    type: str
    owner_id: str | None = None


@dataclass(frozen=True)
class Context:
    subject: Subject
    resource: Resource
    action: str
    ip: str | None = None


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str


def office_hours(instant: datetime) -> bool:
    """Whether ``instant`` (aware) falls in 09:00–18:00 office time (18:00 itself is closed)."""
    if instant.tzinfo is None:
        raise ValueError("the clock must return an aware datetime (a naive one has no instant)")
    local = instant.astimezone(OFFICE_ZONE).time()
    return OFFICE_OPENS <= local < OFFICE_CLOSES


def evaluate(ctx: Context, clock: Clock = system_clock) -> Decision:
    """Deny first, then allow; no matching allow → deny."""
    is_admin = ctx.subject.role == "admin"
    if not is_admin and not office_hours(clock()):
        return Decision(False, "outside office hours (09:00-18:00 Asia/Seoul)")
    if is_admin:
        return Decision(True, "admin")
    owner = ctx.resource.owner_id
    if ctx.action == "update" and owner is not None and owner == ctx.subject.id:
        return Decision(True, "owner")
    return Decision(False, "no matching allow policy")
