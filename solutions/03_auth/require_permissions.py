"""Taught in notebooks/03_auth_access.ipynb §1.

Exercise 03.5: ``require_permissions`` — a FastAPI dependency that answers 401 and 403 correctly.

The guide's ``requirePermission`` answered **403** to a request with no token at all ("Insufficient
permissions"), so a client could not tell "sign in" from "you may not". Authentication failing is
401 with a ``WWW-Authenticate: Bearer …`` challenge; only an authenticated caller lacking a
permission gets 403.

Write :func:`require_permissions`. It returns an ``async`` dependency taking the ``Request`` that:

1. reads every ``Authorization`` header (``request.headers.getlist("authorization")``) and parses
   them with :func:`~reference.auth.bearer.parse_authorization`; a :class:`BearerError` becomes
   ``Unauthorized(error.description, error.error)`` (the problem carries the challenge);
2. passes the token to ``request.app.state.authenticator`` (``token -> Principal | None``); ``None``
   is ``Unauthorized("…", "invalid_token")``;
3. checks the caller's role against :data:`~reference.auth.rbac.ROLE_PERMISSIONS`: with
   ``mode="all"`` every listed permission is needed, with ``mode="any"`` one suffices; otherwise
   ``Forbidden("…")``;
4. returns the :class:`Principal`.

``require_permissions()`` with no permission, or a ``mode`` other than ``"all"``/``"any"``, raises
``ValueError`` at once (a route declared wrongly must not start).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request

from reference.api_design.auth import Principal
from reference.api_design.problems import Forbidden, Unauthorized
from reference.auth.bearer import BearerError, parse_authorization
from reference.auth.rbac import ROLE_PERMISSIONS, Permission

__all__ = [
    "ROLE_PERMISSIONS",
    "BearerError",
    "Forbidden",
    "Permission",
    "Principal",
    "Unauthorized",
    "parse_authorization",
    "require_permissions",
]


def require_permissions(
    *permissions: Permission, mode: str = "all"
) -> Callable[[Request], Awaitable[Principal]]:
    """The dependency described in the module docstring."""
    if not permissions or mode not in ("all", "any"):
        raise ValueError("name at least one permission, and mode 'all' or 'any'")
    needed = frozenset(permissions)

    async def dependency(request: Request) -> Principal:
        try:
            token = parse_authorization(request.headers.getlist("authorization"))
        except BearerError as error:
            raise Unauthorized(error.description, error.error) from None
        principal = request.app.state.authenticator(token)
        if principal is None:
            raise Unauthorized("The bearer token is not valid.", "invalid_token")
        granted = ROLE_PERMISSIONS.get(principal.role, frozenset())
        enough = needed <= granted if mode == "all" else bool(needed & granted)
        if not enough:
            raise Forbidden(f"Requires {mode} of {sorted(needed)}.")
        return principal  # type: ignore[no-any-return]

    return dependency
