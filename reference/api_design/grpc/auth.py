"""Who is calling a gRPC method: the REST app's bearer-token seam, read from call metadata.

Pattern: one authenticator for every API, applied in one place. gRPC carries HTTP/2 headers as
*metadata*, so a client sends ``authorization: Bearer <token>`` exactly as it would to the REST or
GraphQL app, and the server parses it with the same
:func:`~reference.auth.bearer.parse_authorization` and checks it with the same authenticator
(chapter 03's ``JwtAuthenticator``; ``StaticTokens`` in tests). :class:`AuthInterceptor` is the only
code that does it: it runs before any handler (a refused caller never reaches the
servicer) and runs the handler — each step of a streamed response too — in a context holding the
principal, which the servicer reads with :func:`caller`. A servicer served without the interceptor
has no caller and refuses every call (fail closed, never open). The health service stays open for
probes. On the client, the token travels as *call credentials*
(``grpc.access_token_call_credentials``), which gRPC only sends over a channel it trusts — TLS, or
``local_channel_credentials`` for a server on this machine (the notebook, tests). The guide's
server had no authentication at all: anyone could list every user's email. Taught in
``notebooks/01_api_design_grpc.ipynb``.
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable, Iterator
from typing import Any

import grpc

from reference.api_design.auth import Authenticator, Principal
from reference.api_design.grpc.errors import Unauthenticated
from reference.auth.bearer import BearerError, parse_authorization

# The principal AuthInterceptor authenticated, set only inside the context a handler runs in.
_CALLER: contextvars.ContextVar[Principal | None] = contextvars.ContextVar("caller", default=None)


def caller() -> Principal:
    """The principal :class:`AuthInterceptor` authenticated for the running call.

    Raises :class:`Unauthenticated` when no interceptor ran — a server assembled without it lets
    nobody in rather than everybody.
    """
    principal = _CALLER.get()
    if principal is None:
        raise Unauthenticated("this server does not authenticate callers (no AuthInterceptor)")
    return principal


def _authenticate(context: Any, authenticator: Authenticator) -> Principal:
    """The caller named by the call's ``authorization`` metadata, or :class:`Unauthenticated`."""
    headers = [value for key, value in context.invocation_metadata() if key == "authorization"]
    if not headers:
        raise Unauthenticated("sign in first: send the metadata authorization: Bearer <token>")
    try:
        # Two authorization entries are ambiguous (which one did a proxy add?): refused, as REST
        # refuses two headers.
        token = parse_authorization(headers)
    except BearerError:
        raise Unauthenticated("the authorization metadata is not 'Bearer <token>'") from None
    principal = authenticator(token)
    if principal is None:
        raise Unauthenticated("the bearer token is not valid")
    return principal


def bearer_channel(target: str, token: str) -> grpc.Channel:
    """A channel to a server on this machine that sends ``authorization: Bearer <token>`` on
    every call (use TLS credentials instead of ``local_channel_credentials`` across a network)."""
    credentials = grpc.composite_channel_credentials(
        grpc.local_channel_credentials(), grpc.access_token_call_credentials(token)
    )
    return grpc.secure_channel(target, credentials)


def _stepped_in(scope: contextvars.Context, responses: Iterator[Any]) -> Iterator[Any]:
    """Run each step of a streamed response inside ``scope``: a generator's body runs when grpc
    pulls from it, long after the handler returned, and must still see its caller."""
    try:
        while True:
            try:
                yield scope.run(next, responses)
            except StopIteration:
                return
    finally:
        # Closing runs the handler's own clean-up (a stream slot released) inside the scope too.
        close = getattr(responses, "close", None)
        if close is not None:
            scope.run(close)


class AuthInterceptor(grpc.ServerInterceptor):  # type: ignore[misc]
    """Authenticate every call of the ``protected`` service before its handler runs.

    A refused caller gets ``UNAUTHENTICATED`` and the servicer is never entered; an accepted
    caller's handler runs in a context of its own where :func:`caller` returns the principal.
    """

    def __init__(self, authenticator: Authenticator, protected: str) -> None:
        self.authenticator = authenticator
        self.prefix = f"/{protected}/"

    def intercept_service(
        self,
        continuation: Callable[[Any], grpc.RpcMethodHandler | None],
        handler_call_details: Any,
    ) -> grpc.RpcMethodHandler | None:
        handler = continuation(handler_call_details)
        if handler is None or not handler_call_details.method.startswith(self.prefix):
            return handler
        kinds = ("unary_unary", "unary_stream", "stream_unary", "stream_stream")
        kind = next(k for k in kinds if getattr(handler, k) is not None)
        behaviour = getattr(handler, kind)
        streamed = bool(handler.response_streaming)
        authenticator = self.authenticator

        @functools.wraps(behaviour)
        def guarded(request: Any, context: Any) -> Any:
            try:
                principal = _authenticate(context, authenticator)
            except Unauthenticated as refusal:
                context.abort(grpc.StatusCode.UNAUTHENTICATED, str(refusal))
            scope = contextvars.copy_context()
            scope.run(_CALLER.set, principal)
            result = scope.run(behaviour, request, context)
            return _stepped_in(scope, result) if streamed else result

        return handler._replace(**{kind: guarded})
