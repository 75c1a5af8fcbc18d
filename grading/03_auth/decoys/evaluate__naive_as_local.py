"""Decoy for 03.6: treats a naive datetime as server-local time instead of refusing it. Caught by test_a_naive_clock_is_refused."""

from __future__ import annotations

from datetime import time
from zoneinfo import ZoneInfo

from reference.auth.abac import Clock, Context, Decision

OFFICE_ZONE = ZoneInfo("Asia/Seoul")


def evaluate(ctx: Context, clock: Clock) -> Decision:
    if ctx.subject.role == "admin":
        return Decision(True, "admin")
    now = clock()
    if not (time(9) <= now.astimezone(OFFICE_ZONE).time() < time(18)):
        return Decision(False, "outside office hours")
    owner = ctx.resource.owner_id
    if ctx.action == "update" and owner is not None and owner == ctx.subject.id:
        return Decision(True, "owner")
    return Decision(False, "no rule")
