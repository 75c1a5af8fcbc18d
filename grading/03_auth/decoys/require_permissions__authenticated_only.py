"""Decoy for 03.5: checks who is calling, never what they may do. Caught by test_authenticated_without_the_permission_is_403."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request

from reference.api_design.auth import Principal
from reference.api_design.problems import Unauthorized
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
        assert needed
        return principal  # type: ignore[no-any-return]

    return dependency
