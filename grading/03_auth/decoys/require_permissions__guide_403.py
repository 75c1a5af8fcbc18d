"""Decoy for 03.5: the guide's ``if (!userRole || …) return 403``: no or bad credentials answered 403. Caught by test_no_token_is_401_with_a_challenge."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request

from reference.api_design.auth import Principal
from reference.api_design.problems import Forbidden
from reference.auth.bearer import BearerError, parse_authorization
from reference.auth.rbac import ROLE_PERMISSIONS, Permission


def require_permissions(
    *permissions: Permission, mode: str = "all"
) -> Callable[[Request], Awaitable[Principal]]:
    if not permissions or mode not in ("all", "any"):
        raise ValueError("bad declaration")
    needed = frozenset(permissions)

    async def dependency(request: Request) -> Principal:
        try:
            token = parse_authorization(request.headers.getlist("authorization"))
        except BearerError:
            raise Forbidden("Insufficient permissions") from None
        principal = request.app.state.authenticator(token)
        if principal is None:
            raise Forbidden("Insufficient permissions")
        granted = ROLE_PERMISSIONS.get(principal.role, frozenset())
        if not (needed <= granted if mode == "all" else needed & granted):
            raise Forbidden("not allowed")
        return principal  # type: ignore[no-any-return]

    return dependency
