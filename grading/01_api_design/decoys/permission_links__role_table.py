"""Decoy for 01.4: router-built hrefs, but the rules re-derived from role names instead of asking the
policy — right today, wrong when the policy changes; caught by test_links_follow_the_policy_not_the_roles."""

from __future__ import annotations

from starlette.requests import Request

from reference.api_design.auth import Principal
from reference.api_design.schemas import Link, UserOut
from reference.databases.models import UserRole


def build_links(resource: UserOut, principal: Principal, request: Request) -> dict[str, Link]:
    own = resource.id == principal.user_id
    admin = principal.role is UserRole.ADMIN
    allowed = {
        "self": ("get_user", "GET", admin or own or principal.role is UserRole.MANAGER),
        "orders": ("list_user_orders", "GET", admin or own or principal.role is UserRole.MANAGER),
        "update": ("replace_user", "PUT", admin or own),
        "patch": ("patch_user", "PATCH", admin or own),
        "delete": ("delete_user", "DELETE", admin),
    }
    return {
        rel: Link(href=request.url_for(route, user_id=resource.id).path, method=method)  # type: ignore[arg-type]
        for rel, (route, method, ok) in allowed.items()
        if ok
    }
