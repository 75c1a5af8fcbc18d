"""Who is calling a gRPC method: the REST app's bearer-token seam, read from call metadata.

Pattern: one authenticator for every API. gRPC carries HTTP/2 headers as *metadata*, so a client
sends ``authorization: Bearer <token>`` exactly as it would to the REST or GraphQL app, and the
server parses it with the same :func:`~reference.api_design.auth.parse_bearer` and checks it with
the same authenticator (``StaticTokens``, ``HmacTokens``, later a JWT verifier) before any handler
reads the database; the health service stays open for probes. On the client, the token travels as
*call credentials* (``grpc.access_token_call_credentials``), which gRPC only sends over a channel it
trusts — TLS, or ``local_channel_credentials`` for a server on this machine (the notebook, tests).
The guide's server had no authentication at all: anyone could list every user's email. Taught in
``notebooks/01_api_design_grpc.ipynb``.
"""

from __future__ import annotations

from typing import Any

import grpc

from reference.api_design.auth import Authenticator, Principal, parse_bearer
from reference.api_design.grpc.errors import Unauthenticated


def authenticate(context: Any, authenticator: Authenticator) -> Principal:
    """The caller named by the call's ``authorization`` metadata, or :class:`Unauthenticated`."""
    headers = [value for key, value in context.invocation_metadata() if key == "authorization"]
    if not headers:
        raise Unauthenticated("sign in first: send the metadata authorization: Bearer <token>")
    # Two authorization entries are ambiguous (which one did a proxy add?): refuse, as REST does
    # with a header that is not exactly one bearer token.
    token = parse_bearer(headers[0]) if len(headers) == 1 else None
    if token is None:
        raise Unauthenticated("the authorization metadata is not 'Bearer <token>'")
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
