"""The users resource as a level-3 REST API: FastAPI over PostgreSQL, one app factory.

(No ``from __future__ import annotations`` here: FastAPI must resolve the handlers' local
``Annotated`` dependency aliases at definition time.)

The pattern: ``create_app(database_url, …)`` wires the pieces each module owns — bearer principal
(``auth``), object-level policy (``policy``), links from the router (``links``), strong ETags and
conditional writes (``etag``), a Redis rate limit (``ratelimit``), problem+json for every error
(``problems``) — around a repository of SQL (``repository``). Everything the guide's Express router
left out is here: bounded integer paging with a true total, a sort allow-list, ``Location`` on 201,
404 for a missing id on every verb, 409 for a duplicate e-mail, 422 for a malformed id, no password
hash in any response, and ownership checks. Taught in ``notebooks/01_api_design_rest.ipynb``.
"""

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from argon2 import PasswordHasher
from fastapi import Depends, FastAPI, Header, Query, Request, Response
from fastapi.encoders import jsonable_encoder
from sqlalchemy import create_engine

from reference.api_design import etag as etags
from reference.api_design.auth import Authenticator, BearerAuth, Principal
from reference.api_design.links import LinkBuilder, link, page_links, root_links, user_links
from reference.api_design.policy import Action, may
from reference.api_design.problems import (
    Conflict,
    Forbidden,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    install_problem_handlers,
    problem_responses,
)
from reference.api_design.ratelimit import FixedWindowLimiter, RateLimit
from reference.api_design.repository import (
    EmailTaken,
    StaleVersion,
    UserNotFound,
    UserRepository,
    Versioned,
)
from reference.api_design.schemas import (
    MAX_LIMIT,
    ApiRoot,
    ListParams,
    OrderList,
    OrderOut,
    PageMeta,
    UserCreate,
    UserDocument,
    UserList,
    UserPatch,
    UserReplace,
    user_out,
)
from reference.config import to_sqlalchemy_url

COMMON_ERRORS = (401, 429, 500, 503)


def _json_bytes(model: Any) -> bytes:
    return json.dumps(jsonable_encoder(model), separators=(",", ":")).encode()


def create_app(
    database_url: str,
    *,
    root_path: str = "",
    authenticator: Authenticator | None = None,
    rate_limit: RateLimit | None = None,
    require_if_match: bool = True,
    link_builder: LinkBuilder = user_links,
    password_hasher: PasswordHasher | None = None,
) -> FastAPI:
    """Build the users API on ``database_url`` (a ``postgresql://`` URL; nothing connects yet).

    ``authenticator`` maps a bearer token to a :class:`Principal` (default: no token is valid);
    ``rate_limit`` turns on the Redis limiter; ``require_if_match`` makes PUT/PATCH without
    ``If-Match`` a 428; ``link_builder`` decides a user document's links (exercise 01.4 plugs in
    here).
    """
    engine = create_engine(to_sqlalchemy_url(database_url), pool_pre_ping=True, pool_size=10)
    repository = UserRepository(engine)
    hasher = password_hasher or PasswordHasher()
    limiter = FixedWindowLimiter(rate_limit) if rate_limit else None
    bearer = BearerAuth(authenticator or (lambda _token: None))

    async def principal_of(
        request: Request, principal: Annotated[Principal, Depends(bearer)]
    ) -> Principal:
        if limiter is not None:
            limiter.hit(principal)
        return principal

    Caller = Annotated[Principal, Depends(principal_of)]

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        engine.dispose()
        if limiter is not None:
            limiter.close()

    app = FastAPI(
        title="Users API",
        version="1.0.0",
        summary="Backend Skill Lab, chapter 01: the guide's users resource done right.",
        root_path=root_path,
        lifespan=lifespan,
        responses=problem_responses(*COMMON_ERRORS),
    )
    app.state.engine = engine
    install_problem_handlers(app)

    def visible(principal: Principal, user_id: uuid.UUID, action: Action) -> Versioned:
        """The record, if the caller may see it (404 otherwise) and may do ``action`` (403)."""
        if not may(principal, "read", user_id):
            raise NotFound(f"No user {user_id}.")
        record = repository.get(user_id)
        if record is None:
            raise NotFound(f"No user {user_id}.")
        if not may(principal, action, user_id):
            raise Forbidden(f"You may not {action} this user.")
        return record

    def document(record: Versioned, principal: Principal, request: Request) -> UserDocument:
        data = user_out(record.user)
        return UserDocument(data=data, links=link_builder(data, principal, request))

    def send(
        record: Versioned,
        principal: Principal,
        request: Request,
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> Response:
        body = _json_bytes(document(record, principal, request))
        return Response(
            body,
            status_code=status,
            media_type="application/json",
            headers={
                "ETag": etags.make_etag(record.version, body),
                "Vary": "Authorization",
                **(headers or {}),
            },
        )

    def check_if_match(
        if_match: str | None, record: Versioned, principal: Principal, request: Request
    ) -> int | None:
        """The row version the write must still find, or ``None`` for an unconditional write."""
        if if_match is None:
            if require_if_match and request.method in ("PUT", "PATCH"):
                raise PreconditionRequired(
                    "Send If-Match with the ETag you last read, so you cannot overwrite a change "
                    "you have not seen."
                )
            return None
        current = etags.make_etag(record.version, _json_bytes(document(record, principal, request)))
        if not etags.if_match_passes(if_match, current):
            raise PreconditionFailed("The user changed since you read it; GET it again.")
        return record.version

    def write(
        user_id: uuid.UUID,
        values: dict[str, Any],
        if_match: str | None,
        principal: Principal,
        request: Request,
    ) -> Response:
        record = visible(principal, user_id, "update")
        expected = check_if_match(if_match, record, principal, request)
        try:
            updated = repository.update(user_id, values, expected_version=expected)
        except UserNotFound:
            raise NotFound(f"No user {user_id}.") from None
        except StaleVersion:
            raise PreconditionFailed("The user changed since you read it; GET it again.") from None
        except EmailTaken:
            raise Conflict("Another user has this e-mail address.") from None
        return send(updated, principal, request)

    user_responses = problem_responses(404, 422)
    write_responses = problem_responses(400, 403, 404, 409, 412, 422, 428)

    @app.get("/", name="api_root", response_model=ApiRoot)
    def api_root(request: Request, principal: Caller) -> ApiRoot:
        """The entry point: links to everything this caller may do."""
        return ApiRoot(links=root_links(principal, request))

    @app.get(
        "/users",
        name="list_users",
        response_model=UserList,
        responses=problem_responses(403, 422),
    )
    def list_users(
        request: Request, principal: Caller, params: Annotated[ListParams, Query()]
    ) -> UserList:
        """A page of users; ``meta.total`` counts every user, on every page."""
        if not may(principal, "list"):
            raise Forbidden("Listing users needs the manager or admin role.")
        records, total = repository.page(page=params.page, limit=params.limit, sort=params.sort)
        links = page_links(
            request,
            "list_users",
            page=params.page,
            limit=params.limit,
            total=total,
            sort=params.sort,
        )
        if may(principal, "create"):
            links["create"] = link(request, "create_user", "POST")
        return UserList(
            data=[document(record, principal, request) for record in records],
            meta=PageMeta(page=params.page, limit=params.limit, total=total),
            links=links,
        )

    @app.post(
        "/users",
        name="create_user",
        status_code=201,
        response_model=UserDocument,
        responses={
            201: {"headers": {"Location": {"schema": {"type": "string"}}}},
            **problem_responses(400, 403, 409, 422),
        },
    )
    def create_user(request: Request, principal: Caller, body: UserCreate) -> Response:
        """Create a user (admin only); 201 with ``Location``, 409 if the e-mail is taken."""
        if not may(principal, "create"):
            raise Forbidden("Creating users needs the admin role.")
        try:
            record = repository.create(
                email=str(body.email), name=body.name, password_hash=hasher.hash(body.password)
            )
        except EmailTaken:
            raise Conflict("Another user has this e-mail address.") from None
        location = request.url_for("get_user", user_id=record.user.id).path
        return send(record, principal, request, status=201, headers={"Location": location})

    @app.get(
        "/users/{user_id}",
        name="get_user",
        response_model=UserDocument,
        responses={304: {"description": "Not Modified"}, **user_responses},
    )
    def get_user(
        request: Request,
        principal: Caller,
        user_id: uuid.UUID,
        if_none_match: Annotated[str | None, Header()] = None,
    ) -> Response:
        """One user with a strong ``ETag``; ``If-None-Match`` with it answers 304."""
        record = visible(principal, user_id, "read")
        response = send(record, principal, request)
        if if_none_match is not None and etags.if_none_match_hits(
            if_none_match, response.headers["ETag"]
        ):
            return Response(
                status_code=304, headers={"ETag": response.headers["ETag"], "Vary": "Authorization"}
            )
        return response

    @app.put(
        "/users/{user_id}",
        name="replace_user",
        response_model=UserDocument,
        responses=write_responses,
    )
    def replace_user(
        request: Request,
        principal: Caller,
        user_id: uuid.UUID,
        body: UserReplace,
        if_match: Annotated[str | None, Header()] = None,
    ) -> Response:
        """Replace the user's e-mail and name; needs ``If-Match``."""
        return write(user_id, body.model_dump(mode="json"), if_match, principal, request)

    @app.patch(
        "/users/{user_id}",
        name="patch_user",
        response_model=UserDocument,
        responses=write_responses,
    )
    def patch_user(
        request: Request,
        principal: Caller,
        user_id: uuid.UUID,
        body: UserPatch,
        if_match: Annotated[str | None, Header()] = None,
    ) -> Response:
        """Change some of the user's fields; needs ``If-Match``."""
        values = body.model_dump(mode="json", exclude_unset=True)
        return write(user_id, values, if_match, principal, request)

    @app.delete(
        "/users/{user_id}",
        name="delete_user",
        status_code=204,
        responses=problem_responses(403, 404, 412, 422),
    )
    def delete_user(
        request: Request,
        principal: Caller,
        user_id: uuid.UUID,
        if_match: Annotated[str | None, Header()] = None,
    ) -> Response:
        """Delete a user (admin only); ``If-Match`` is honoured when sent."""
        record = visible(principal, user_id, "delete")
        expected = check_if_match(if_match, record, principal, request)
        try:
            repository.delete(user_id, expected_version=expected)
        except UserNotFound:
            raise NotFound(f"No user {user_id}.") from None
        except StaleVersion:
            raise PreconditionFailed("The user changed since you read it.") from None
        return Response(status_code=204)

    @app.get(
        "/users/{user_id}/orders",
        name="list_user_orders",
        response_model=OrderList,
        responses=user_responses,
    )
    def list_user_orders(
        request: Request,
        principal: Caller,
        user_id: uuid.UUID,
        page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
    ) -> OrderList:
        """The user's orders, newest first."""
        visible(principal, user_id, "read")
        orders, total = repository.orders(user_id, page=page, limit=limit)
        return OrderList(
            data=[OrderOut.model_validate(order, from_attributes=True) for order in orders],
            meta=PageMeta(page=page, limit=limit, total=total),
            links=page_links(
                request,
                "list_user_orders",
                page=page,
                limit=limit,
                total=total,
                user_id=user_id,
            ),
        )

    return app
