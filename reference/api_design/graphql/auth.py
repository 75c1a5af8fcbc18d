"""Who is calling: a signed bearer token → :class:`Viewer` (id and role).

Pattern: authenticate once per request in the context getter, then authorize in every resolver that
returns someone's data. The token is an HMAC-SHA256-signed ``user_id.role`` — the smallest honest
bearer token, so this chapter stands alone; chapter 03 replaces it with JWTs, expiry and revocation.
Taught in ``notebooks/01_api_design_graphql_grpc.ipynb``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import uuid
from dataclasses import dataclass

from reference.databases.models import UserRole


@dataclass(frozen=True)
class Viewer:
    """The authenticated caller."""

    id: uuid.UUID
    role: UserRole

    @property
    def is_admin(self) -> bool:
        return self.role is UserRole.ADMIN

    @property
    def is_staff(self) -> bool:
        """Admins and managers may see and change every user's data."""
        return self.role in (UserRole.ADMIN, UserRole.MANAGER)


def _sign(secret: str, body: str) -> str:
    mac = hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def issue_token(secret: str, user_id: uuid.UUID, role: UserRole) -> str:
    """A bearer token for ``user_id`` acting as ``role``."""
    body = f"{user_id}.{role.value}"
    return f"{body}.{_sign(secret, body)}"


def read_token(secret: str, token: str) -> Viewer | None:
    """The viewer a token names, or ``None`` if it is malformed or its signature is wrong."""
    try:
        user_id, role, signature = token.split(".")
        body = f"{user_id}.{role}"
        if not hmac.compare_digest(signature, _sign(secret, body)):
            return None
        return Viewer(id=uuid.UUID(user_id), role=UserRole(role))
    except (ValueError, binascii.Error):
        return None


def viewer_from_authorization(secret: str, header: str | None) -> Viewer | None:
    """Parse an ``Authorization: Bearer <token>`` header value."""
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    return read_token(secret, token.strip())
