"""Decoy for 03.5: the guide's table: MANAGER has exactly USER's permissions (user:read). Caught by test_manager_differs_from_user."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request

from reference.api_design.auth import Principal
from reference.api_design.problems import Forbidden, Unauthorized
from reference.auth.bearer import BearerError, parse_authorization
from reference.auth.rbac import Permission


def require_permissions(
    *permissions: Permission, mode: str = "all"
) -> Callable[[Request], Awaitable[Principal]]:
    if not permissions or mode not in ("all", "any"):
        raise ValueError("bad declaration")
    needed = frozenset(permissions)

    async def dependency(request: Request) -> Principal:
        try:
            token = parse_authorization(request.headers.getlist("authorization"))
        except BearerError as error:
            raise Unauthorized(error.description, error.error) from None
        principal = request.app.state.authenticator(token)
        if principal is None:
            raise Unauthorized("The bearer token is not valid.", "invalid_token")
        guide = {"user": {Permission.USER_READ}, "manager": {Permission.USER_READ}}
        granted = guide.get(principal.role.value, set(Permission))
        if not (needed <= granted if mode == "all" else needed & granted):
            raise Forbidden("not allowed")
        return principal  # type: ignore[no-any-return]

    return dependency
