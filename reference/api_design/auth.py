"""A minimal, pluggable bearer-token principal: who is calling, and as which role.

The pattern: the app factory receives an *authenticator* (any callable ``token -> Principal |
None``); a dependency parses ``Authorization: Bearer <token>`` by the RFC 6750 grammar — scheme
compared case-insensitively, exactly one token — and answers 401 with ``WWW-Authenticate: Bearer``
otherwise. The guide's ``authorization.substring(7)`` takes any seven characters off any header
(``Basic …``, ``Token …``) and calls the rest a token. :class:`StaticTokens` (a dict) ships here
for tests and the REST notebook, where the token is not the lesson; real tokens are the course's
asymmetric JWTs (:class:`reference.auth.authenticator.JwtAuthenticator`, minted by
:class:`reference.auth.tokens.TokenIssuer`), verified with a public key set, so no service that
checks a token can mint one. The grammar lives in :mod:`reference.auth.bearer`. The GraphQL app
(``reference.api_design.graphql``) and the gRPC server use the same :class:`Principal`,
:func:`parse_bearer` and authenticators. Taught in
``notebooks/01_api_design_rest.ipynb``, ``notebooks/01_api_design_graphql.ipynb`` and
``notebooks/01_api_design_grpc.ipynb``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from fastapi import Request
from fastapi.security import HTTPBearer

from reference.api_design.problems import Unauthorized
from reference.auth.bearer import BearerError, parse_authorization, parse_bearer
from reference.databases.models import UserRole


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: a user id and that user's role."""

    user_id: uuid.UUID
    role: UserRole

    @property
    def is_admin(self) -> bool:
        return self.role is UserRole.ADMIN

    @property
    def is_staff(self) -> bool:
        """Admins and managers: the GraphQL schema's staff, who may act on every user's data."""
        return self.role in (UserRole.ADMIN, UserRole.MANAGER)


Authenticator = Callable[[str], "Principal | None"]

__all__ = ["Authenticator", "BearerAuth", "Principal", "StaticTokens", "parse_bearer"]


class StaticTokens:
    """A fixed token → principal map (tests, notebooks, the benchmark)."""

    def __init__(self, tokens: Mapping[str, Principal]) -> None:
        self._tokens = dict(tokens)

    def __call__(self, token: str) -> Principal | None:
        return self._tokens.get(token)


class BearerAuth(HTTPBearer):
    """FastAPI dependency: the caller's :class:`Principal`, or a 401 problem with a challenge.

    Subclassing ``HTTPBearer`` keeps the ``bearerAuth`` security scheme in the OpenAPI spec.
    """

    def __init__(self, authenticator: Authenticator) -> None:
        super().__init__(bearerFormat="JWT", auto_error=False, scheme_name="bearerAuth")
        self.authenticator = authenticator

    async def __call__(self, request: Request) -> Principal:  # type: ignore[override]
        known = getattr(request.state, "principal", None)
        if isinstance(known, Principal):  # authenticated earlier in this request (the REST gate)
            return known
        try:
            # Every Authorization header sent: two are ambiguous (which did a proxy add?).
            token = parse_authorization(request.headers.getlist("Authorization"))
        except BearerError as refused:
            raise (
                Unauthorized(refused.description + ".", refused.error)
                if refused.error
                else Unauthorized()
            ) from None
        principal = self.authenticator(token)
        if principal is None:
            raise Unauthorized("The bearer token is not valid.", "invalid_token")
        request.state.principal = principal
        return principal
