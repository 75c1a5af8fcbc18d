"""The users resource as a level-3 REST API: FastAPI over PostgreSQL, one app factory.

(No ``from __future__ import annotations`` here: FastAPI must resolve the handlers' local
``Annotated`` dependency aliases at definition time.)

The pattern: ``create_app(database_url, …)`` wires the pieces each module owns — bearer principal
(``auth``), object-level policy (``policy``), links from the router (``links``), strong ETags and
conditional writes (``etag``), a Redis rate limit (``ratelimit``), problem+json for every error
(``problems``) — around a repository of SQL (``repository``). Everything the guide's Express router
left out is here: bounded integer paging with a true total, a sort allow-list, ``Location`` on 201,
404 for a missing id on every verb, 409 for a duplicate e-mail, 422 for a malformed id, no password
hash in any response, and ownership checks. Every route goes through the ``gate`` (authentication
before the body is read, unknown query parameters 422, 415 for a body that is not JSON, 413 above
:data:`~reference.api_design.gate.MAX_BODY_BYTES`); every GET also answers HEAD (RFC 9110 §9.3.2);
a browser on an allowed origin gets a CORS policy. The spec documents what the server enforces:
``If-Match`` required on PUT/PATCH (428 without it), the ``ETag`` header, and links from a created
or fetched user to what can be done with it (schemathesis follows them in its stateful phase).
Taught in ``notebooks/01_api_design_rest.ipynb``.
"""

import json
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Annotated, Any

from argon2 import PasswordHasher
from fastapi import Depends, FastAPI, Header, Path, Query, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.routing import APIRoute
from sqlalchemy import create_engine
from starlette.concurrency import run_in_threadpool

from reference.api_design import etag as etags
from reference.api_design.auth import Authenticator, BearerAuth, Principal
from reference.api_design.gate import MAX_BODY_BYTES, gated_route
from reference.api_design.links import LinkBuilder, link, page_links, root_links, user_links
from reference.api_design.policy import Action, may
from reference.api_design.problems import (
    Conflict,
    Forbidden,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    ProblemCORSMiddleware,
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
    ApiRoot,
    CanonicalUUID,
    ListParams,
    OrderList,
    OrderOut,
    PageMeta,
    PageParams,
    UserCreate,
    UserDocument,
    UserList,
    UserPatch,
    UserReplace,
    user_out,
)
from reference.config import to_sqlalchemy_url

COMMON_ERRORS = (401, 429, 500, 503)
BODY_ERRORS = (400, 413, 415, 422)
CORS_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
CORS_HEADERS = ("Authorization", "Content-Type", "If-Match", "If-None-Match")
CORS_EXPOSED = ("ETag", "Location", "Retry-After", "WWW-Authenticate")

UserId = Annotated[CanonicalUUID, Path(description="The user's id, as its links spell it.")]
ETAG_HEADER = {
    "ETag": {
        "description": "Strong validator of this representation; send it back in If-Match.",
        "schema": {"type": "string"},
    }
}
_USER_ID = "$response.body#/data/id"
_ETAG = "$response.header.ETag"
# Where a user document leads (OpenAPI links): what a client — or schemathesis's stateful
# phase — can do next with the id and ETag it just received.
USER_LINKS = {
    "GetUser": {"operationId": "get_user", "parameters": {"user_id": _USER_ID}},
    "ReplaceUser": {
        "operationId": "replace_user",
        "parameters": {"user_id": _USER_ID, "header.If-Match": _ETAG},
    },
    "PatchUser": {
        "operationId": "patch_user",
        "parameters": {"user_id": _USER_ID, "header.If-Match": _ETAG},
    },
    "DeleteUser": {
        "operationId": "delete_user",
        "parameters": {"user_id": _USER_ID, "header.If-Match": _ETAG},
    },
    "ListUserOrders": {"operationId": "list_user_orders", "parameters": {"user_id": _USER_ID}},
}


def if_match_parameter(required: bool) -> dict[str, Any]:
    """The ``If-Match`` header as the spec states it (the handler reads it as optional and
    answers 428 itself, so a missing precondition is a 428, not a generic 422)."""
    return {
        "parameters": [
            {
                "name": "If-Match",
                "in": "header",
                "required": required,
                "schema": {"type": "string"},
                "description": "The ETag you last read"
                + ("; without it the write is refused (428)." if required else "."),
            }
        ]
    }


def _json_bytes(model: Any) -> bytes:
    return json.dumps(jsonable_encoder(model), separators=(",", ":")).encode()


def create_app(
    database_url: str,
    *,
    authenticator: Authenticator | None = None,
    rate_limit: RateLimit | None = None,
    require_if_match: bool = True,
    link_builder: LinkBuilder = user_links,
    password_hasher: PasswordHasher | None = None,
    cors_origins: Sequence[str] = (),
    max_body_bytes: int = MAX_BODY_BYTES,
) -> FastAPI:
    """Build the users API on ``database_url`` (a ``postgresql://`` URL; nothing connects yet).

    ``authenticator`` maps a bearer token to a :class:`Principal` (default: no token is valid);
    ``rate_limit`` turns on the Redis limiter; ``require_if_match`` makes PUT/PATCH without
    ``If-Match`` a 428; ``link_builder`` decides a user document's links (exercise 01.4 plugs in
    here); ``cors_origins`` is the CORS allow-list (browsers on other origins are refused);
    ``max_body_bytes`` caps a request body (413 above it). Behind a proxy that strips a path
    prefix, the server passes it as the ASGI ``root_path`` (``uvicorn --root-path /api/v1``).
    """
    engine = create_engine(to_sqlalchemy_url(database_url), pool_pre_ping=True, pool_size=10)
    repository = UserRepository(engine)
    hasher = password_hasher or PasswordHasher()
    limiter = FixedWindowLimiter(rate_limit) if rate_limit else None
    bearer = BearerAuth(authenticator or (lambda _token: None))

    async def admit(request: Request) -> None:
        """Authenticate (401), then count the request against the caller's limit (429)."""
        principal = await bearer(request)
        if limiter is not None:
            await run_in_threadpool(limiter.hit, principal)

    # Authenticated by the gate before the body is read; the dependency returns that principal
    # and keeps the bearerAuth security scheme in the spec.
    Caller = Annotated[Principal, Depends(bearer)]

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
        description=(
            "Every operation needs a bearer token. Bodies are `application/json` in UTF-8 "
            f"(415 otherwise), at most {max_body_bytes} bytes (413 above). Unknown or repeated "
            "query parameters are 422. Ids are canonical UUIDs (lowercase, hyphenated). "
            "PUT and PATCH need `If-Match` with the ETag last read (428 without it, 412 when "
            "stale); DELETE honours it when sent."
        ),
        lifespan=lifespan,
        responses=problem_responses(*COMMON_ERRORS),
    )
    app.router.route_class = gated_route(admit, max_body_bytes)
    app.state.engine = engine
    install_problem_handlers(app)
    app.add_middleware(
        ProblemCORSMiddleware,
        allow_origins=list(cors_origins),
        allow_methods=CORS_METHODS,
        allow_headers=CORS_HEADERS,
        expose_headers=CORS_EXPOSED,
        max_age=600,
    )

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
    write_responses = {
        200: {"headers": ETAG_HEADER, "links": USER_LINKS},
        **problem_responses(*BODY_ERRORS, 403, 404, 409, 412, 428),
    }
    if_match_required = if_match_parameter(require_if_match)

    @app.get("/", name="api_root", operation_id="api_root", response_model=ApiRoot)
    def api_root(request: Request, principal: Caller) -> ApiRoot:
        """The entry point: links to everything this caller may do."""
        return ApiRoot(links=root_links(principal, request))

    @app.get(
        "/users",
        name="list_users",
        operation_id="list_users",
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
        operation_id="create_user",
        status_code=201,
        response_model=UserDocument,
        responses={
            201: {
                "headers": {"Location": {"schema": {"type": "string"}}, **ETAG_HEADER},
                "links": USER_LINKS,
            },
            **problem_responses(*BODY_ERRORS, 403, 409),
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
        operation_id="get_user",
        response_model=UserDocument,
        responses={
            200: {"headers": ETAG_HEADER, "links": USER_LINKS},
            304: {"description": "Not Modified", "headers": ETAG_HEADER},
            **user_responses,
        },
    )
    def get_user(
        request: Request,
        principal: Caller,
        user_id: UserId,
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
        operation_id="replace_user",
        response_model=UserDocument,
        responses=write_responses,
        openapi_extra=if_match_required,
    )
    def replace_user(
        request: Request,
        principal: Caller,
        user_id: UserId,
        body: UserReplace,
        if_match: Annotated[str | None, Header(include_in_schema=False)] = None,
    ) -> Response:
        """Replace the user's e-mail and name; needs ``If-Match``."""
        return write(user_id, body.model_dump(mode="json"), if_match, principal, request)

    @app.patch(
        "/users/{user_id}",
        name="patch_user",
        operation_id="patch_user",
        response_model=UserDocument,
        responses=write_responses,
        openapi_extra=if_match_required,
    )
    def patch_user(
        request: Request,
        principal: Caller,
        user_id: UserId,
        body: UserPatch,
        if_match: Annotated[str | None, Header(include_in_schema=False)] = None,
    ) -> Response:
        """Change some of the user's fields; needs ``If-Match``."""
        values = body.model_dump(mode="json", exclude_unset=True)
        return write(user_id, values, if_match, principal, request)

    @app.delete(
        "/users/{user_id}",
        name="delete_user",
        operation_id="delete_user",
        status_code=204,
        responses=problem_responses(403, 404, 412, 422),
        openapi_extra=if_match_parameter(False),
    )
    def delete_user(
        request: Request,
        principal: Caller,
        user_id: UserId,
        if_match: Annotated[str | None, Header(include_in_schema=False)] = None,
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
        operation_id="list_user_orders",
        response_model=OrderList,
        responses=user_responses,
    )
    def list_user_orders(
        request: Request,
        principal: Caller,
        user_id: UserId,
        params: Annotated[PageParams, Query()],
    ) -> OrderList:
        """The user's orders, newest first."""
        visible(principal, user_id, "read")
        page, limit = params.page, params.limit
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

    answer_head_like_get(app)
    return app


def answer_head_like_get(app: FastAPI) -> None:
    """Give every GET route a HEAD twin (FastAPI adds none; RFC 9110 §9.3.2 expects one).

    Starlette sends a HEAD response's headers only — the ``Content-Length`` and ``ETag`` of the
    GET — and the twin stays out of the spec, where HEAD is implied by GET.
    """
    for route in list(app.routes):
        if isinstance(route, APIRoute) and "GET" in (route.methods or ()):
            app.add_api_route(
                route.path,
                route.endpoint,
                methods=["HEAD"],
                name=f"{route.name}_head",
                response_model=route.response_model,
                include_in_schema=False,
            )
