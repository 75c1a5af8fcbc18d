"""The guide's RBAC (인증/인가 › RBAC): ``requirePermission(...permissions)`` as a FastAPI dependency.

Defects kept (tests in ``tests/auth/test_guide_defects.py``, fix in ``reference/auth/rbac.py``):
an unauthenticated request gets 403 (``!userRole`` → "Insufficient permissions") instead of 401;
MANAGER has exactly USER's permissions; the role is whatever the access token said when it was
issued (up to 15 minutes stale); ``USER_READ`` lets anyone read every user.

Liberty: ``req.user`` is read from ``request.state.user`` (set by the port of ``authMiddleware``).
"""

from __future__ import annotations

import enum
from collections.abc import Callable

from fastapi import HTTPException, Request


class Role(enum.StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    USER = "user"


class Permission(enum.StrEnum):
    USER_READ = "user:read"
    USER_DELETE = "user:delete"
    ADMIN_ACCESS = "admin:access"


ROLE_PERMISSIONS: dict[Role, list[Permission]] = {
    Role.ADMIN: list(Permission),
    Role.MANAGER: [Permission.USER_READ],
    Role.USER: [Permission.USER_READ],
}


def require_permission(*permissions: Permission) -> Callable[[Request], None]:
    def dependency(request: Request) -> None:
        user = getattr(request.state, "user", None)
        user_role = user.get("role") if user else None
        granted = ROLE_PERMISSIONS.get(Role(user_role), []) if user_role in set(Role) else []
        if not user_role or not all(p in granted for p in permissions):
            raise HTTPException(403, {"error": "Insufficient permissions"})

    return dependency
