"""The guide's ABAC engine (인증/인가 › ABAC), ported from TypeScript closures to Python lambdas.

Defects kept (tests in ``tests/auth/test_guide_defects.py``, fix in ``reference/auth/abac.py``):

- ``ctx.environment.time.getHours()`` is the hour in the *server's* time zone: the same instant is
  allowed on a UTC server and denied on a Seoul one;
- ``ctx.resource.ownerId === ctx.user.id`` is true when both are ``undefined``: an ownerless resource
  can be updated by anyone — and ``req.user`` from ``authMiddleware`` has ``userId``, not ``id``;
- ``environment.ip`` is carried and never used.

Contexts are plain dicts shaped like the guide's ``PolicyContext`` (``dict.get`` plays a missing
property's ``undefined``); ``time`` is an aware ``datetime`` (a JavaScript ``Date`` is an instant).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

Context = dict[str, Any]


@dataclass(frozen=True)
class Policy:
    effect: Literal["allow", "deny"]
    condition: Callable[[Context], bool]


def _local_hour(ctx: Context) -> int:
    # getHours(): the hour in the process's local zone (TZ), whatever zone the caller meant.
    return int(ctx["environment"]["time"].astimezone().hour)


POLICIES: list[Policy] = [
    Policy(
        "allow",
        lambda ctx: (
            ctx["action"] == "update" and ctx["resource"].get("ownerId") == ctx["user"].get("id")
        ),
    ),
    Policy("allow", lambda ctx: ctx["user"].get("role") == "admin"),
    Policy(
        "deny",
        lambda ctx: (
            ctx["user"].get("role") != "admin" and (_local_hour(ctx) < 9 or _local_hour(ctx) >= 18)
        ),
    ),
]


class ABACEngine:
    def evaluate(self, context: Context) -> dict[str, Any]:
        for p in (p for p in POLICIES if p.effect == "deny"):
            if p.condition(context):
                return {"allowed": False, "reason": "Policy denied"}
        for p in (p for p in POLICIES if p.effect == "allow"):
            if p.condition(context):
                return {"allowed": True}
        return {"allowed": False, "reason": "No matching allow policy"}
