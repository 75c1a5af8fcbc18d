"""The ABAC rules of :mod:`reference.auth.abac`, stated for Casbin (pycasbin) instead.

An established policy engine beside the hand-written one: the model (request, policy, effect,
matcher) is fixed text, the rules are policy lines an administrator can change without a deploy, and
attribute checks (office hours in Asia/Seoul, ownership) are functions the matcher calls. The same
tests run against both (``tests/auth/test_abac.py``). Taught in ``notebooks/03_auth_access.ipynb``.
"""

from __future__ import annotations

from datetime import datetime

import casbin  # type: ignore[import-untyped]  # pycasbin ships no type information

from reference.auth.abac import Clock, Context, Decision, Subject, office_hours, system_clock

MODEL = """
[request_definition]
r = sub, obj, act, now

[policy_definition]
p = role, act, cond

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = (p.role == "*" || r.sub.role == p.role) && (p.act == "*" || r.act == p.act) && \
    (p.cond == "always" || (officeHours(r.now) && ownedBy(r.obj, r.sub)))
"""

# Admins may do anything at any time; anyone may update what they own during office hours.
POLICY = [
    ["admin", "*", "always"],
    ["*", "update", "owner_in_office_hours"],
]


def _owned_by(resource: object, subject: Subject) -> bool:
    owner = getattr(resource, "owner_id", None)
    return owner is not None and owner == subject.id


def _office_hours(now: datetime) -> bool:
    return office_hours(now)


def enforcer() -> casbin.Enforcer:
    model = casbin.Model()
    model.load_model_from_text(MODEL)
    e = casbin.Enforcer(model)
    for rule in POLICY:
        e.add_policy(*rule)
    e.add_function("officeHours", _office_hours)
    e.add_function("ownedBy", _owned_by)
    return e


def evaluate(
    ctx: Context, clock: Clock = system_clock, e: casbin.Enforcer | None = None
) -> Decision:
    allowed = bool((e or enforcer()).enforce(ctx.subject, ctx.resource, ctx.action, clock()))
    return Decision(allowed, "casbin: allow" if allowed else "casbin: no matching allow policy")
