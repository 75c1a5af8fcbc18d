"""GraphQL errors a client can act on: a stable ``extensions.code`` and a message meant for people.

Pattern: resolvers raise :class:`PublicError` subclasses; graphql-core copies their ``extensions``
onto the response error. Anything else is masked (:class:`ClientSafeErrors` in ``schema.py``) so an
exception's text — SQL, hostnames, stack details — never reaches a client, and a message that quotes
client input (an id, or graphql-core's "Cannot query field '…'" for a 60 KB field name) is cut
rather than sent back whole. Validation problems a user can fix in a form go in the mutation
payload's ``errors`` instead (see ``types.UserError``). Taught in
``notebooks/01_api_design_graphql.ipynb``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from graphql import GraphQLError
from strawberry.extensions import MaskErrors

# Client values quoted in an error message are cut to this many characters (as gRPC's are): a
# 5 MB id must not come back as a 5 MB error.
MAX_ECHO = 64
MAX_MESSAGE = 500  # any error message, ours or graphql-core's


def shorten(value: str, limit: int = MAX_ECHO) -> str:
    """``value`` as quoted in an error message: at most ``limit`` characters, marked when cut."""
    return value if len(value) <= limit else value[:limit] + "…"


class PublicError(Exception):
    """An error whose message and code are safe to show the client."""

    code: ClassVar[str] = "BAD_REQUEST"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.extensions: dict[str, Any] = {"code": self.code}


class Unauthenticated(PublicError):
    code = "UNAUTHENTICATED"


class Forbidden(PublicError):
    code = "FORBIDDEN"


class NotFound(PublicError):
    code = "NOT_FOUND"


class BadUserInput(PublicError):
    code = "BAD_USER_INPUT"


class ResourceExhausted(PublicError):
    """A bounded server resource (open subscriptions) is fully in use; retry later."""

    code = "RESOURCE_EXHAUSTED"


def should_mask(error: GraphQLError) -> bool:
    """Mask every resolver exception that is not a :class:`PublicError`.

    Errors without an ``original_error`` come from parsing and validation (depth and token limits,
    unknown fields) and describe the query, not the server, so they stay visible.
    """
    original = error.original_error
    return original is not None and not isinstance(original, PublicError | GraphQLError)


class ClientSafeErrors(MaskErrors):
    """``MaskErrors`` that hides server faults (:func:`should_mask`) and cuts any other message
    longer than ``MAX_MESSAGE`` — in single results and in every streamed (subscription) result."""

    def __init__(self) -> None:
        super().__init__(
            should_mask_error=lambda error: should_mask(error) or len(error.message) > MAX_MESSAGE
        )

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        if should_mask(error):
            return super().anonymise_error(error)
        return GraphQLError(
            shorten(error.message, MAX_MESSAGE),
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            original_error=error.original_error,
            extensions=error.extensions,
        )
