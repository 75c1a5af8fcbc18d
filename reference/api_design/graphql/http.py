"""The GraphQL endpoint's transport rules: a size cap before anything is read, JSON errors always.

Pattern: refuse at the cheapest layer that can tell. :class:`BodyLimit`, an ASGI middleware, stops a
body at ``MAX_BODY_BYTES`` — declared in ``Content-Length`` (413 at once, nothing read) or streamed
(413 as soon as it passes the cap) — and closes a WebSocket whose message is bigger (1009), so an
oversized document is never decoded or parsed. :class:`CourseGraphQLRouter` answers every request
error as GraphQL over HTTP expects, ``{"errors": [{"message", "extensions": {"code"}}]}`` with a 4xx
status, where strawberry sent ``text/plain`` (and a 500 for a body that was JSON but not an
object): 415 for a body that is not ``application/json``, 400 for JSON that is malformed, nested
too deeply or not an object, for a non-string ``operationName``, and for a subscription sent to
the HTTP endpoint (they run over ``graphql-transport-ws``, whose messages
:class:`CheckedTransportWS` checks: 4400 for one of the wrong shape). Taught in
``notebooks/01_api_design_graphql.ipynb``.
"""

from __future__ import annotations

import json
from typing import Any, cast

from cross_web import HTTPException
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLRequestData
from strawberry.http.parse_content_type import parse_content_type
from strawberry.schema.base import BaseSchema
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    Message as TransportMessage,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import SubscribeMessage
from strawberry.types.unset import UNSET

from reference.api_design.graphql.limits import MAX_BODY_BYTES

# extensions.code of each request error, so clients can branch on it as on resolver errors.
STATUS_CODES = {
    400: "BAD_REQUEST",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
}
MESSAGE_TOO_BIG = 1009  # WebSocket close code (RFC 6455)


class UnusableJSON(json.JSONDecodeError):
    """JSON that cannot be a GraphQL request: not UTF-8, nested too deeply (the decoder would
    recurse past the interpreter's limit), an integer too long to convert, or not an object."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, "", 0)


def error_response(status: int, message: str) -> JSONResponse:
    """A request error in the GraphQL response shape, with ``status``."""
    code = STATUS_CODES.get(status, "BAD_REQUEST")
    return JSONResponse({"errors": [{"message": message, "extensions": {"code": code}}]}, status)


class BodyLimit:
    """ASGI middleware: no HTTP body or WebSocket message over ``max_bytes`` reaches the app."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def too_large(self) -> Response:
        response = error_response(413, f"The request body is larger than {self.max_bytes:,} bytes.")
        response.headers["Connection"] = "close"  # the rest of the body is not read
        return response

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self.http(scope, receive, send)
        elif scope["type"] == "websocket":
            await self.websocket(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self.too_large()(scope, receive, send)
            return
        # Read the whole (capped) body here, then hand it to the app as one message.
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self.too_large()(scope, receive, send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body: Message | None = {"type": "http.request", "body": b"".join(chunks)}

        async def replay() -> Message:
            nonlocal body
            if body is None:
                return await receive()  # after the body: wait for the disconnect
            message, body = body, None
            return message

        await self.app(scope, replay, send)

    async def websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        closed = False

        async def capped_receive() -> Message:
            nonlocal closed
            message = await receive()
            data = message.get("text") or message.get("bytes") or ""
            if message["type"] == "websocket.receive" and len(data) > self.max_bytes:
                closed = True
                await send({"type": "websocket.close", "code": MESSAGE_TOO_BIG})
                return {"type": "websocket.disconnect", "code": MESSAGE_TOO_BIG}
            return message

        async def guarded_send(message: Message) -> None:
            if not closed:  # the app's own close, after ours, would be a protocol error
                await send(message)

        await self.app(scope, capped_receive, guarded_send)


class CheckedTransportWS(BaseGraphQLTransportWSHandler[Any, None]):
    """``graphql-transport-ws`` with every message checked against the protocol's shapes: strawberry
    indexes into them as given, so ``"query": 5`` or ``"variables": "x"`` crashed the worker task
    (and the client saw a bare "complete")."""

    async def handle_message(self, message: object) -> None:
        if not isinstance(message, dict):
            await self.handle_invalid_message("A message must be a JSON object")
            return
        await super().handle_message(cast("TransportMessage", message))

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        payload: Any = message.get("payload")
        well_formed = (
            isinstance(message.get("id"), str)
            and isinstance(payload, dict)
            and isinstance(payload.get("query"), str)
            and isinstance(payload.get("variables"), dict | None)
            and isinstance(payload.get("operationName"), str | None)
            and isinstance(payload.get("extensions"), dict | None)
        )
        if not well_formed:
            # A close reason is at most 123 bytes (RFC 6455), so the details stay here: id a
            # string; payload an object with a string query; variables and extensions objects and
            # operationName a string, if sent.
            await self.handle_invalid_message("Invalid subscribe message")
            return
        await super().handle_subscribe(message)


class CourseGraphQLRouter(GraphQLRouter[Any, None]):
    """strawberry's FastAPI router with JSON request errors, a stricter request parser and a
    checked WebSocket protocol (``graphql-transport-ws`` only: the legacy ``graphql-ws`` is off)."""

    graphql_transport_ws_handler_class = CheckedTransportWS

    def __init__(self, schema: BaseSchema, **options: Any) -> None:
        super().__init__(schema, subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,), **options)

    async def run(
        self,
        request: Request | WebSocket,
        context: Any = UNSET,
        root_value: Any = UNSET,
    ) -> Any:
        try:
            return await super().run(request, context, root_value)
        except HTTPException as error:
            return error_response(error.status_code, error.reason)

    def decode_json(self, data: str | bytes) -> object:
        """A JSON object (or a batch list); anything else raises ``JSONDecodeError`` — a 400 over
        HTTP, close code 4400 on a WebSocket — never an exception strawberry does not expect."""
        try:
            decoded = json.loads(data)
        except json.JSONDecodeError:
            raise
        except RecursionError:
            raise UnusableJSON("The request's JSON is nested too deeply") from None
        except UnicodeDecodeError:
            raise UnusableJSON("The request's JSON is not UTF-8") from None
        except ValueError:  # int() refuses more than 4,300 digits (CVE-2020-10735)
            raise UnusableJSON(
                "The request's JSON has an integer of more than 4,300 digits"
            ) from None
        if not isinstance(decoded, dict | list):
            raise UnusableJSON("The request must be a JSON object")
        return decoded

    def parse_json(self, data: str | bytes) -> Any:
        try:
            return self.decode_json(data)
        except json.JSONDecodeError as error:
            unusable = isinstance(error, UnusableJSON)
            reason = error.msg if unusable else f"The request is not valid JSON: {error.msg}"
            raise HTTPException(400, reason + ".") from error

    async def parse_http_body(self, request: Any) -> GraphQLRequestData | list[GraphQLRequestData]:
        if request.method == "POST":
            media_type, _ = parse_content_type(request.content_type or "")
            if media_type != "application/json":
                raise HTTPException(
                    415, "Send the GraphQL request as JSON, with Content-Type: application/json."
                )
        parsed = await super().parse_http_body(request)
        if isinstance(parsed, GraphQLRequestData) and not isinstance(
            parsed.operation_name, str | None
        ):
            raise HTTPException(
                400,
                "The GraphQL operation's `operationName` must be a string or null, if provided.",
            )
        return parsed
