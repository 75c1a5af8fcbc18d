"""The per-request GraphQL context: who is calling, a session factory, and FRESH DataLoaders.

Pattern: build everything request-scoped in the context getter. FastAPI calls ``get_context`` for
every HTTP request and every WebSocket connection, so each gets its own loaders (caches) — one
caller's cached rows can never answer another caller's query. The caller is the same
:class:`~reference.api_design.auth.Principal` the REST app uses, read from ``Authorization: Bearer``
by the same :func:`~reference.auth.bearer.parse_authorization` and checked by the app's authenticator. Taught in
``notebooks/01_api_design_graphql.ipynb``.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import HTTPConnection
from strawberry.fastapi import BaseContext
from strawberry.types import Info

from reference.api_design.auth import Principal
from reference.api_design.graphql.errors import Unauthenticated
from reference.api_design.graphql.events import SubscriptionSlots
from reference.api_design.graphql.loaders import Loaders, make_loaders
from reference.auth.bearer import BearerError, parse_authorization


class Context(BaseContext):
    """What every resolver can reach through ``info.context``."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        listen_url: str,
        principal: Principal | None,
        loaders: Loaders | None = None,
        subscriptions: SubscriptionSlots | None = None,
    ) -> None:
        super().__init__()
        self.sessions = sessions
        self.listen_url = listen_url  # plain postgresql:// URL for LISTEN connections
        self.principal = principal
        self.loaders = loaders if loaders is not None else make_loaders(sessions)
        # The server's one bound on open subscriptions (a fresh one when run without a server).
        self.subscriptions = subscriptions if subscriptions is not None else SubscriptionSlots()


def require_principal(info: Info[Context, None]) -> Principal:
    """The caller, or an ``UNAUTHENTICATED`` error."""
    principal = info.context.principal
    if principal is None:
        raise Unauthenticated("sign in first: send Authorization: Bearer <token>")
    return principal


async def get_context(connection: HTTPConnection) -> Context:
    """FastAPI dependency: one new :class:`Context` per request or WebSocket connection."""
    state = connection.app.state
    # No header, two headers, not "Bearer <token>", or a token the authenticator rejects: no
    # principal, and every resolver that needs one answers UNAUTHENTICATED.
    try:
        token: str | None = parse_authorization(connection.headers.getlist("authorization"))
    except BearerError:
        token = None
    principal = state.authenticator(token) if token is not None else None
    return Context(
        sessions=state.sessions,
        listen_url=state.database_url,
        principal=principal,
        subscriptions=state.subscriptions,
    )
