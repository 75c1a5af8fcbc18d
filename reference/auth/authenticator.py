"""The one authenticator every API uses: a JWT verifier behind chapter 01's seam.

REST (:class:`~reference.api_design.auth.BearerAuth`), GraphQL (its context) and gRPC (its
interceptor, :mod:`reference.api_design.grpc.auth`) all take an ``Authenticator`` — ``token -> Principal |
None``. :class:`JwtAuthenticator` is one: it picks the verifier of the token's issuer (the course's
own, Keycloak's, …; an issuer it does not know is refused), verifies, checks the token version
when a :class:`~reference.auth.refresh.SessionStore` is given, and maps roles to a
:class:`~reference.api_design.auth.Principal` in one place (:func:`role_of`; :func:`access_token_for`
is the way back, for the course's own issuer). :meth:`JwtAuthenticator.of` verifies one
:class:`~reference.auth.tokens.TokenIssuer`'s tokens from its public JWKS — what chapter 01's apps,
tests and notebooks use. Taught in ``notebooks/03_auth_tokens.ipynb``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Self

import jwt

from reference.api_design.auth import Principal
from reference.auth.refresh import SessionStore
from reference.auth.tokens import InvalidToken, TokenIssuer, TokenVerifier, ring_source
from reference.databases.models import UserRole

# The most powerful role wins; anything else a token lists (Keycloak's "offline_access" …) is ignored.
_RANK = [UserRole.ADMIN, UserRole.MANAGER, UserRole.USER]


def roles_in(claims: Mapping[str, Any]) -> list[str]:
    """The role names a token carries: ours in ``roles``, Keycloak's in ``realm_access.roles``."""
    roles = claims.get("roles")
    if roles is None:
        realm = claims.get("realm_access")
        roles = realm.get("roles") if isinstance(realm, Mapping) else None
    return [r for r in roles if isinstance(r, str)] if isinstance(roles, list) else []


def role_of(roles: Iterable[str]) -> UserRole | None:
    """Map role names to the course's one role (highest wins); no known role → ``None``."""
    names = set(roles)
    return next((r for r in _RANK if r.value in names), None)


def access_token_for(issuer: TokenIssuer, principal: Principal, *, version: int = 0) -> str:
    """An access token of ``issuer`` that :class:`JwtAuthenticator` maps back to ``principal``."""
    return issuer.access_token(str(principal.user_id), [principal.role.value], version=version)


class JwtAuthenticator:
    """``token -> Principal | None`` over one or more issuers' verifiers."""

    def __init__(self, verifiers: Sequence[TokenVerifier], sessions: SessionStore | None = None):
        self.verifiers = {v.issuer: v for v in verifiers}
        self.sessions = sessions
        self.refusals: list[str] = []  # the last few reasons, for logs and notebooks

    @classmethod
    def of(cls, issuer: TokenIssuer, sessions: SessionStore | None = None) -> Self:
        """The authenticator of ``issuer``'s own access tokens, checked against its key ring's
        public JWKS in process (a service elsewhere would fetch that document instead)."""
        verifier = TokenVerifier(ring_source(issuer.keys), issuer.issuer, issuer.audience)
        return cls([verifier], sessions)

    def claims(self, token: str) -> dict[str, Any]:
        """Verified claims, or :class:`InvalidToken`."""
        try:
            issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
        except jwt.PyJWTError:
            raise InvalidToken("malformed token") from None
        verifier = self.verifiers.get(issuer) if isinstance(issuer, str) else None
        if verifier is None:
            raise InvalidToken("unknown issuer")
        claims = verifier.verify(token)
        if self.sessions is not None and not self.sessions.is_current(claims):
            raise InvalidToken("token version is stale")
        return claims

    def __call__(self, token: str) -> Principal | None:
        try:
            claims = self.claims(token)
            user_id = uuid.UUID(str(claims["sub"]))
        except (InvalidToken, ValueError) as refused:
            self.refusals = [*self.refusals[-9:], getattr(refused, "reason", "sub is not a UUID")]
            return None
        role = role_of(roles_in(claims))
        return Principal(user_id, role) if role is not None else None
