"""Decoy for 03.6: the guide's ``getHours()``: the hour in the server's zone (``astimezone()`` with no argument). Caught by test_office_hours_in_seoul_on_any_server (UTC and Los Angeles servers)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from reference.auth.abac import Clock, Context, Decision

OFFICE_ZONE = ZoneInfo("Asia/Seoul")


def evaluate(ctx: Context, clock: Clock) -> Decision:
    if ctx.subject.role == "admin":
        return Decision(True, "admin")
    now = clock()
    if now.tzinfo is None:
        raise ValueError("naive")
    if not (9 <= now.astimezone().hour < 18):
        return Decision(False, "outside office hours")
    owner = ctx.resource.owner_id
    if ctx.action == "update" and owner is not None and owner == ctx.subject.id:
        return Decision(True, "owner")
    return Decision(False, "no rule")
