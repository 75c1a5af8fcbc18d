"""Role-based access control as a FastAPI dependency: ``Depends(require_permissions(...))``.

The pattern: authentication and authorization fail differently — no (valid) credentials is 401
with a ``WWW-Authenticate`` challenge, valid credentials without the permission is 403. Roles map to
permissions in one table (:data:`ROLE_PERMISSIONS`), where MANAGER really differs from USER, and
``mode`` says whether every listed permission is needed (``all``) or one suffices (``any``).
The guide answered 403 to anonymous callers, gave MANAGER exactly USER's permissions and let
``USER_READ`` read every user. Taught in ``notebooks/03_auth_access.ipynb``.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from typing import Literal

from fastapi import Request

from reference.api_design.auth import Authenticator, Principal
from reference.api_design.problems import Forbidden, Unauthorized
from reference.auth.bearer import BearerError, parse_authorization
from reference.databases.models import UserRole


class Permission(enum.StrEnum):
    USER_READ_SELF = "user:read:self"
    USER_READ = "user:read"  # every user's profile
    USER_UPDATE = "user:update"
    USER_DELETE = "user:delete"
    ADMIN_ACCESS = "admin:access"


ROLE_PERMISSIONS: dict[UserRole, frozenset[Permission]] = {
    UserRole.USER: frozenset({Permission.USER_READ_SELF}),
    UserRole.MANAGER: frozenset(
        {Permission.USER_READ_SELF, Permission.USER_READ, Permission.USER_UPDATE}
    ),
    UserRole.ADMIN: frozenset(Permission),
}


def authenticate_request(request: Request) -> Principal:
    """The caller of ``request`` by ``request.app.state.authenticator``, or a 401 problem."""
    known = getattr(request.state, "principal", None)
    if isinstance(known, Principal):
        return known
    authenticator: Authenticator = request.app.state.authenticator
    try:
        token = parse_authorization(request.headers.getlist("authorization"))
    except BearerError as error:
        raise Unauthorized(error.description, error.error) from None
    principal = authenticator(token)
    if principal is None:
        raise Unauthorized("The bearer token is not valid.", "invalid_token")
    request.state.principal = principal
    return principal


def allowed(principal: Principal, permissions: tuple[Permission, ...], mode: str) -> bool:
    granted = ROLE_PERMISSIONS.get(principal.role, frozenset())
    test = all if mode == "all" else any
    return test(p in granted for p in permissions)


def require_permissions(
    *permissions: Permission, mode: Literal["all", "any"] = "all"
) -> Callable[[Request], Awaitable[Principal]]:
    """A dependency returning the caller, after 401 (who are you?) and 403 (not allowed) checks."""
    if not permissions:
        raise ValueError("require_permissions needs at least one permission")
    if mode not in ("all", "any"):
        raise ValueError("mode is 'all' or 'any'")

    async def dependency(request: Request) -> Principal:
        principal = authenticate_request(request)
        if not allowed(principal, permissions, mode):
            raise Forbidden(f"Requires {mode} of: {', '.join(permissions)}.")
        return principal

    return dependency
