"""What every request of the users API passes before FastAPI reads its body.

The pattern: FastAPI reads and parses a body *before* it solves dependencies, so with
authentication as a dependency an anonymous client's malformed JSON got 400 (the parser had run
for a stranger), a ``text/plain`` body reached the validator (422), any query parameter nobody
declared was silently ignored and a 10 MB body was read in full. A route class — FastAPI's seam
for this ("custom Request and APIRoute class") — puts the checks in a fixed order, each answering
with a problem document:

1. a declared ``Content-Length`` above :data:`MAX_BODY_BYTES` → 413 at once, nothing read;
2. who is calling (401) and how often (429) — the app's ``admit`` callable;
3. query parameter names the operation does not declare, or one sent twice → 422
   (``?page=1&page=2`` has no single meaning, and a typo like ``pagee`` must not be ignored);
4. on an operation with a body: a media type other than ``application/json`` in UTF-8 → 415;
5. then the handler, reading through :class:`StrictJSONRequest`: a streamed body is cut off as soon
   as it passes the cap (413), and JSON is parsed strictly (400): UTF-8 only, no duplicate keys
   (``{"role": "user", "role": "admin"}`` means what the *last* parser decides), no ``NaN``,
   no nesting deeper than the interpreter's recursion limit, no integer of more than 4300 digits.

Taught in ``notebooks/01_api_design_rest.ipynb``.
"""

from __future__ import annotations

import email.message
import json
from collections import Counter
from collections.abc import AsyncGenerator, Awaitable, Callable, Coroutine
from typing import Any

from fastapi import HTTPException, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.types import Receive, Scope

from reference.api_design.problems import UnsupportedMediaType

MAX_BODY_BYTES = 64 * 1024  # a user document is well under 1 KiB; documented in the spec
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})

Admit = Callable[[Request], Awaitable[None]]
Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def too_large(limit: int) -> HTTPException:
    """413 as an ``HTTPException``: FastAPI re-raises those from inside its body read."""
    return HTTPException(413, detail=f"The request body is larger than {limit} bytes.")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) != len(pairs):
        raise ValueError("an object has the same key twice")
    return document


def parse_json(body: bytes) -> Any:
    """Strict RFC 8259 JSON; a ``JSONDecodeError`` (→ 400) for anything a lax parser lets by."""
    try:
        text = body.decode("utf-8")
        return json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_reject_constant)
    except json.JSONDecodeError:
        raise
    except (ValueError, RecursionError) as error:
        # UnicodeDecodeError, a duplicate key, NaN, an integer past the digit limit, deep nesting.
        reason = "nested too deeply" if isinstance(error, RecursionError) else str(error)
        raise json.JSONDecodeError(reason.split(":")[0], "", 0) from None


class StrictJSONRequest(Request):
    """A request whose body stops at ``max_body_bytes`` and whose JSON is parsed strictly."""

    def __init__(self, scope: Scope, receive: Receive, max_body_bytes: int) -> None:
        super().__init__(scope, receive)
        self.max_body_bytes = max_body_bytes

    async def stream(self) -> AsyncGenerator[bytes, None]:
        size = 0
        async for chunk in super().stream():
            size += len(chunk)
            if size > self.max_body_bytes:
                raise too_large(self.max_body_bytes)
            yield chunk

    async def json(self) -> Any:
        return parse_json(await self.body())


def declared_length(request: Request) -> int | None:
    value = request.headers.get("content-length", "")
    return int(value) if value.isdigit() else None


def is_json_utf8(content_type: str | None) -> bool:
    """``application/json`` or ``application/*+json``, with no charset or ``utf-8``."""
    if not content_type:
        return False
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    charset = message.get_param("charset")
    return (
        message.get_content_maintype() == "application"
        and (subtype == "json" or subtype.endswith("+json"))
        and (charset is None or str(charset).lower() in ("utf-8", "utf8"))
    )


def query_names(dependant: Dependant) -> frozenset[str]:
    """Every query parameter name an operation declares (a model's fields count one by one)."""
    names: set[str] = set()
    pending = [dependant]
    while pending:
        current = pending.pop()
        for field in current.query_params:
            model = field.field_info.annotation
            if isinstance(model, type) and issubclass(model, BaseModel):
                names |= {info.alias or name for name, info in model.model_fields.items()}
            else:
                names.add(field.alias)
        pending.extend(current.dependencies)
    return frozenset(names)


def check_query(request: Request, declared: frozenset[str]) -> None:
    """422 for a query parameter the operation does not take, or one sent more than once."""
    counts = Counter(name for name, _ in request.query_params.multi_items())
    errors = [
        {
            "type": "extra_forbidden",
            "loc": ("query", name),
            "msg": "Unknown query parameter" if name not in declared else "Sent more than once",
            "input": None,
        }
        for name, count in counts.items()
        if name not in declared or count > 1
    ]
    if errors:
        raise RequestValidationError(errors)


def gated_route(admit: Admit, max_body_bytes: int = MAX_BODY_BYTES) -> type[APIRoute]:
    """An ``APIRoute`` class whose handlers run the checks above, in that order, first."""

    class GatedRoute(APIRoute):
        def get_route_handler(self) -> Handler:
            handler = super().get_route_handler()
            declared = query_names(self.dependant)
            takes_body = self.body_field is not None

            async def gated(request: Request) -> Response:
                length = declared_length(request)
                if length is not None and length > max_body_bytes:
                    raise too_large(max_body_bytes)
                await admit(request)
                check_query(request, declared)
                if takes_body and not is_json_utf8(request.headers.get("content-type")):
                    raise UnsupportedMediaType(
                        "Send the body as application/json (UTF-8), with that Content-Type."
                    )
                return await handler(
                    StrictJSONRequest(request.scope, request.receive, max_body_bytes)
                )

            return gated

    return GatedRoute
