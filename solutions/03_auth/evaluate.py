"""Taught in notebooks/03_auth_access.ipynb §2.

Exercise 03.6: an ABAC decision that does not depend on the server's time zone.

The guide's deny rule read ``ctx.environment.time.getHours()`` — the hour in the *server's* zone —
so the same request was allowed on a server in Seoul and denied on one in UTC. Its owner rule
compared ``ctx.resource.ownerId === ctx.user.id``, true when both are ``undefined``: a resource with
no owner was anyone's to update.

Write :func:`evaluate` with these rules, in this order:

1. ``admin`` may do anything, at any time;
2. anyone else is denied outside office hours: 09:00 (included) to 18:00 (excluded) in
   ``Asia/Seoul`` (:data:`OFFICE_ZONE`), whatever zone the server or the clock's datetime is in —
   ``clock()`` returns an aware datetime; a naive one is a ``ValueError``;
3. within office hours, a subject may ``update`` a resource whose ``owner_id`` is their ``id``
   (a resource without an owner belongs to nobody);
4. everything else is denied.

Return a :class:`~reference.auth.abac.Decision` (``allowed`` and a short ``reason`` of your choice).
"""

from __future__ import annotations

from datetime import time
from zoneinfo import ZoneInfo

from reference.auth.abac import Clock, Context, Decision

OFFICE_ZONE = ZoneInfo("Asia/Seoul")


def evaluate(ctx: Context, clock: Clock) -> Decision:
    """The decision for ``ctx`` at ``clock()``."""
    if ctx.subject.role == "admin":
        return Decision(True, "admin")
    now = clock()
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("the clock returned a naive datetime")
    local = now.astimezone(OFFICE_ZONE).time()
    if not time(9) <= local < time(18):
        return Decision(False, "outside office hours")
    owner = ctx.resource.owner_id
    if ctx.action == "update" and owner is not None and owner == ctx.subject.id:
        return Decision(True, "owner")
    return Decision(False, "no rule allows it")
