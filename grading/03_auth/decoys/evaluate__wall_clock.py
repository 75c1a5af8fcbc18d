"""Decoy for 03.6: reads the machine's clock (``datetime.now(OFFICE_ZONE)``) instead of the injected one. Caught by test_the_clock_is_the_one_given (one of its two calls disagrees)."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from reference.auth.abac import Clock, Context, Decision

OFFICE_ZONE = ZoneInfo("Asia/Seoul")


def evaluate(ctx: Context, clock: Clock) -> Decision:
    if ctx.subject.role == "admin":
        return Decision(True, "admin")
    clock()
    now = datetime.now(OFFICE_ZONE)
    if not (time(9) <= now.time() < time(18)):
        return Decision(False, "outside office hours")
    owner = ctx.resource.owner_id
    if ctx.action == "update" and owner is not None and owner == ctx.subject.id:
        return Decision(True, "owner")
    return Decision(False, "no rule")
