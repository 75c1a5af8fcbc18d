"""The guide's ``JWTService`` and ``authMiddleware`` (인증/인가 › JWT), ported from jsonwebtoken to PyJWT.

Defects kept on purpose (each has a test in ``tests/auth/test_guide_defects.py`` and a fix in
``reference/auth/``):

- one refresh key per user (``refresh:{userId}``): a second device's login overwrites the first's
  token, so device 1 is logged out; a replayed old token is merely refused, nothing is revoked;
- ``refreshTokens`` GETs, compares, then SETs: concurrent refreshes of one token all succeed;
- no ``typ`` claim, no ``iss``/``aud``: with equal secrets a refresh token passes as an access token;
- ``jwt.verify`` in ``refreshTokens`` is not caught (a garbage token is a 500, not a 401);
- a missing user is a ``TypeError``; a suspended user keeps refreshing; ``user.role`` does not exist
  on the guide's user model, so refreshed tokens carry ``role: undefined`` (``None``);
- no logout or revocation; ``authMiddleware`` takes ``substring(7)`` of any header, sends no
  ``WWW-Authenticate`` and echoes the library's error message.

Liberties: the Redis client, the secrets, ``userService.findById`` and a key prefix are passed in
(the guide reads ``process.env`` and module singletons), so tests point the port at the course's
server. ``jwt.verify(token, secret)`` without ``algorithms`` accepts every HMAC algorithm in
jsonwebtoken 9; the port lists the three.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import jwt
import redis
from fastapi import HTTPException, Request

_HMAC = ["HS256", "HS384", "HS512"]


class UnauthorizedError(Exception):
    """The guide's ``UnauthorizedError`` (its handler answers 401 with the message)."""


def _sign(payload: Mapping[str, Any], secret: str, expires_in: int) -> str:
    now = int(time.time())
    return jwt.encode({**payload, "iat": now, "exp": now + expires_in}, secret, algorithm="HS256")


class JWTService:
    def __init__(
        self,
        client: redis.Redis,
        *,
        access_secret: str,
        refresh_secret: str,
        find_user: Callable[[str], Mapping[str, Any] | None],
        key_prefix: str = "",
    ) -> None:
        self.redis = client
        self.access_secret = access_secret
        self.refresh_secret = refresh_secret
        self.find_user = find_user
        self.key_prefix = key_prefix

    def generate_token_pair(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        access = _sign(payload, self.access_secret, 15 * 60)
        refresh = _sign(
            {"userId": payload["userId"], "tokenId": str(uuid.uuid4())},
            self.refresh_secret,
            7 * 24 * 60 * 60,
        )
        # One key per user: the second device's login overwrites the first device's token.
        self.redis.set(
            f"{self.key_prefix}refresh:{payload['userId']}", refresh, ex=7 * 24 * 60 * 60
        )
        return {"accessToken": access, "refreshToken": refresh, "expiresIn": 15 * 60}

    def verify_access_token(self, token: str) -> dict[str, Any]:
        try:
            return dict(jwt.decode(token, self.access_secret, algorithms=_HMAC))
        except jwt.ExpiredSignatureError:
            raise UnauthorizedError("Token expired") from None
        except jwt.PyJWTError:
            raise UnauthorizedError("Invalid token") from None

    def refresh_tokens(self, refresh_token: str) -> dict[str, Any]:
        # Not wrapped in try: a malformed token raises PyJWTError all the way up (a 500).
        decoded = jwt.decode(refresh_token, self.refresh_secret, algorithms=_HMAC)
        stored = self.redis.get(f"{self.key_prefix}refresh:{decoded['userId']}")
        if isinstance(stored, bytes):
            stored = stored.decode()
        if stored != refresh_token:
            raise UnauthorizedError("Invalid refresh token")
        user: Any = self.find_user(decoded["userId"])  # null → TypeError below; status unchecked
        return self.generate_token_pair(
            {"userId": user["id"], "email": user["email"], "role": user.get("role")}
        )


def auth_middleware(service: JWTService) -> Callable[[Request], dict[str, Any]]:
    """``authMiddleware`` as a FastAPI dependency: ``req.user`` is its return value."""

    def dependency(request: Request) -> dict[str, Any]:
        header = request.headers.get("authorization")
        token = header[7:] if header is not None else None  # substring(7), any scheme
        if not token:
            raise HTTPException(401, {"error": "No token provided"})
        try:
            return service.verify_access_token(token)
        except UnauthorizedError as error:
            raise HTTPException(401, {"error": str(error)}) from None

    return dependency
