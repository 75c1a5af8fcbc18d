"""The GraphQL endpoint as a FastAPI app: ``POST /graphql`` and ``graphql-transport-ws``
subscriptions.

Pattern: the app owns its async engine (created in the lifespan, inside the server's event loop) and
the context getter hands every request fresh loaders; ``http.BodyLimit`` caps what is read and
``http.CourseGraphQLRouter`` answers request errors as GraphQL errors. Run it with::

    uv run uvicorn --factory reference.api_design.graphql.app:app_from_env

Taught in ``notebooks/01_api_design_graphql.ipynb``.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import strawberry
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from reference.api_design.auth import Authenticator
from reference.api_design.graphql.context import get_context
from reference.api_design.graphql.events import MAX_SUBSCRIPTIONS, SubscriptionSlots
from reference.api_design.graphql.http import BodyLimit, CourseGraphQLRouter
from reference.api_design.graphql.schema import schema as course_schema
from reference.auth.authenticator import JwtAuthenticator
from reference.auth.tokens import TokenVerifier
from reference.config import get_settings, to_sqlalchemy_url


def make_engine(database_url: str) -> AsyncEngine:
    """An async engine (psycopg 3) for a plain ``postgresql://`` URL."""
    return create_async_engine(to_sqlalchemy_url(database_url), pool_size=10, max_overflow=10)


def make_sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # expire_on_commit=False: rows stay readable after commit without a lazy (sync) reload.
    return async_sessionmaker(engine, expire_on_commit=False)


def create_app(
    database_url: str,
    *,
    authenticator: Authenticator,
    schema: strawberry.Schema = course_schema,
    max_subscriptions: int = MAX_SUBSCRIPTIONS,
) -> FastAPI:
    """The GraphQL app on ``database_url``; ``authenticator`` maps a bearer token to a
    :class:`~reference.api_design.auth.Principal` — the same seam as the REST app's. ``schema`` is
    the course's (exercise 01.9 serves one built with the learner's cost function);
    ``max_subscriptions`` bounds the subscriptions open at once (each holds a database
    connection)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(database_url)
        app.state.engine = engine
        app.state.sessions = make_sessions(engine)
        app.state.database_url = database_url
        app.state.authenticator = authenticator
        app.state.subscriptions = SubscriptionSlots(max_subscriptions)
        try:
            yield
        finally:
            await engine.dispose()

    app = FastAPI(title="Backend Skill Lab — GraphQL", lifespan=lifespan)
    app.include_router(CourseGraphQLRouter(schema, context_getter=get_context), prefix="/graphql")
    app.add_middleware(BodyLimit)  # outermost: an oversized body is refused before any parsing
    return app


def app_from_env() -> FastAPI:
    """``create_app`` with ``DATABASE_URL`` from the environment, accepting the access tokens of
    the issuer named by ``TOKEN_ISSUER`` for ``TOKEN_AUDIENCE``, verified with ``TOKEN_JWKS`` —
    that issuer's *public* JWKS document (JSON): this server can verify tokens, never mint them."""
    missing = [v for v in ("TOKEN_ISSUER", "TOKEN_AUDIENCE", "TOKEN_JWKS") if not os.environ.get(v)]
    if missing:
        raise RuntimeError(f"set {', '.join(missing)} (the token issuer, audience and public JWKS)")
    jwks = json.loads(os.environ["TOKEN_JWKS"])
    verifier = TokenVerifier(
        lambda _kid: jwks, os.environ["TOKEN_ISSUER"], os.environ["TOKEN_AUDIENCE"]
    )
    return create_app(get_settings().database_url, authenticator=JwtAuthenticator([verifier]))
