"""Who is calling a gRPC method: the REST app's bearer-token seam, read from call metadata.

Pattern: one authenticator for every API. gRPC carries HTTP/2 headers as *metadata*, so a client
sends ``authorization: Bearer <token>`` exactly as it would to the REST or GraphQL app, and the
server parses it with the same :func:`~reference.auth.bearer.parse_authorization` and checks it with
the same authenticator (``StaticTokens``, ``HmacTokens``, chapter 03's ``JwtAuthenticator``).
:class:`AuthInterceptor` does it before any handler runs (a refused caller never reaches the
servicer) and hands the principal to the handler through a context variable; the health service
stays open for probes. On the client, the token travels as
*call credentials* (``grpc.access_token_call_credentials``), which gRPC only sends over a channel it
trusts — TLS, or ``local_channel_credentials`` for a server on this machine (the notebook, tests).
The guide's server had no authentication at all: anyone could list every user's email. Taught in
``notebooks/01_api_design_grpc.ipynb``.
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable
from typing import Any

import grpc

from reference.api_design.auth import Authenticator, Principal
from reference.api_design.grpc.errors import Unauthenticated
from reference.auth.bearer import BearerError, parse_authorization

# The principal the interceptor authenticated for the call running on this thread.
_CALLER: contextvars.ContextVar[Principal | None] = contextvars.ContextVar("caller", default=None)


def authenticate(context: Any, authenticator: Authenticator) -> Principal:
    """The caller named by the call's ``authorization`` metadata, or :class:`Unauthenticated`
    (the interceptor's answer when it already authenticated this call)."""
    known = _CALLER.get()
    if known is not None:
        return known
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


class AuthInterceptor(grpc.ServerInterceptor):  # type: ignore[misc]
    """Authenticate every call of the ``protected`` service before its handler runs.

    A refused caller gets ``UNAUTHENTICATED`` and the servicer is never entered; an accepted one's
    principal is in a context variable for :func:`authenticate` while the handler runs (a
    streaming handler's body runs later, outside it, and authenticates again — same answer).
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
        authenticator = self.authenticator

        @functools.wraps(behaviour)
        def guarded(request: Any, context: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                principal = authenticate(context, authenticator)
            except Unauthenticated as refusal:
                context.abort(grpc.StatusCode.UNAUTHENTICATED, str(refusal))
            reset = _CALLER.set(principal)
            try:
                return behaviour(request, context, *args, **kwargs)
            finally:
                _CALLER.reset(reset)

        return handler._replace(**{kind: guarded})
