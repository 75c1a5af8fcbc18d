"""Decoy for 03.6: the guide's ``ownerId === user.id`` with a subject read from a token that has ``userId``, not ``id``: None == None lets anyone update an ownerless resource. Caught by test_ownerless_resource_is_nobodys."""

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
    if not (time(9) <= now.astimezone(OFFICE_ZONE).time() < time(18)):
        return Decision(False, "outside office hours")
    owner = ctx.resource.owner_id
    user_id = getattr(ctx.subject, "user_id", None)  # the token said userId
    if ctx.action == "update" and owner in (user_id, ctx.subject.id):
        return Decision(True, "owner")
    return Decision(False, "no rule")
