"""Decoy for 03.6: takes ``clock().time()`` in whatever zone the clock returned. Caught by test_the_clocks_zone_does_not_matter."""

from __future__ import annotations

from datetime import time
from zoneinfo import ZoneInfo

from reference.auth.abac import Clock, Context, Decision

OFFICE_ZONE = ZoneInfo("Asia/Seoul")


def evaluate(ctx: Context, clock: Clock) -> Decision:
    if ctx.subject.role == "admin":
        return Decision(True, "admin")
    now = clock()
    if now.tzinfo is None:
        raise ValueError("naive")
    if not (time(9) <= now.time() < time(18)):
        return Decision(False, "outside office hours")
    owner = ctx.resource.owner_id
    if ctx.action == "update" and owner is not None and owner == ctx.subject.id:
        return Decision(True, "owner")
    return Decision(False, "no rule")
