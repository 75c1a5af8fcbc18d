"""Decoy for 03.5: 401 as a bare HTTPException: no ``WWW-Authenticate`` challenge and no error code. Caught by test_no_token_is_401_with_a_challenge and test_bad_credentials_are_401_naming_the_error."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import HTTPException, Request

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
            raise HTTPException(401, "Unauthorized") from None
        principal = request.app.state.authenticator(token)
        if principal is None:
            raise HTTPException(401, "Unauthorized")
        granted = ROLE_PERMISSIONS.get(principal.role, frozenset())
        if not (needed <= granted if mode == "all" else needed & granted):
            raise Forbidden("not allowed")
        return principal  # type: ignore[no-any-return]

    return dependency
