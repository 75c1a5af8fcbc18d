"""Port of the guide's ``authMiddleware`` (section "JWT"): token = ``authorization.substring(7)``.

Guide (TypeScript)::

    const token = req.headers.authorization?.substring(7);
    if (!token) return res.status(401).json({ error: 'No token provided' });
    try { req.user = jwtService.verifyAccessToken(token); next(); }
    catch (error) { return res.status(401).json({ error: error.message }); }

Defects kept: any scheme is accepted (``"Basic dXNlcjpwYXNz"`` yields the "token"
``"XNlcjpwYXNz"``), the 401s carry no ``WWW-Authenticate`` challenge, and the error body is ad hoc
(``{"error": …}``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import HTTPException, Request


class GuideUnauthorized(HTTPException):
    def __init__(self, message: str) -> None:
        super().__init__(status_code=401, detail={"error": message})


def substring7(authorization: str | None) -> str | None:
    """``req.headers.authorization?.substring(7)`` — JavaScript semantics ('' for short strings)."""
    if authorization is None:
        return None
    return authorization[7:]


def auth_middleware(verify: Callable[[str], Any]) -> Callable[[Request], Any]:
    """A FastAPI dependency doing what the Express middleware did."""

    def dependency(request: Request) -> Any:
        token = substring7(request.headers.get("authorization"))
        if not token:
            raise GuideUnauthorized("No token provided")
        user = verify(token)
        if user is None:
            raise GuideUnauthorized("Invalid token")
        return user

    return dependency
