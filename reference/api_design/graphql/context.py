"""The per-request GraphQL context: who is calling, a session factory, and FRESH DataLoaders.

Pattern: build everything request-scoped in the context getter. FastAPI calls ``get_context`` for
every HTTP request and every WebSocket connection, so each gets its own loaders (caches) — one
caller's cached rows can never answer another caller's query. Taught in
``notebooks/01_api_design_graphql_grpc.ipynb``.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import HTTPConnection
from strawberry.fastapi import BaseContext
from strawberry.types import Info

from reference.api_design.graphql.auth import Viewer, viewer_from_authorization
from reference.api_design.graphql.errors import Unauthenticated
from reference.api_design.graphql.loaders import Loaders, make_loaders


class Context(BaseContext):
    """What every resolver can reach through ``info.context``."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        listen_url: str,
        viewer: Viewer | None,
        loaders: Loaders | None = None,
    ) -> None:
        super().__init__()
        self.sessions = sessions
        self.listen_url = listen_url  # plain postgresql:// URL for LISTEN connections
        self.viewer = viewer
        self.loaders = loaders if loaders is not None else make_loaders(sessions)


def require_viewer(info: Info[Context, None]) -> Viewer:
    """The caller, or an ``UNAUTHENTICATED`` error."""
    viewer = info.context.viewer
    if viewer is None:
        raise Unauthenticated("sign in first: send Authorization: Bearer <token>")
    return viewer


async def get_context(connection: HTTPConnection) -> Context:
    """FastAPI dependency: one new :class:`Context` per request or WebSocket connection."""
    state = connection.app.state
    return Context(
        sessions=state.sessions,
        listen_url=state.database_url,
        viewer=viewer_from_authorization(
            state.token_secret, connection.headers.get("authorization")
        ),
    )
