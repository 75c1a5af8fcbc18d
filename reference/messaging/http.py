"""The correlation id's whole trip: an HTTP request's ``X-Request-ID`` becomes the event's
``correlation_id`` (through the outbox), the Kafka ``correlation-id`` header, and the consumer's log
field (tests/messaging/test_correlation.py; the outbox notebook shows the outbox half, not yet this
endpoint).

``POST /orders`` places an order with its ``order.created`` event in one transaction and answers
201 with the request id it used: the client's ``X-Request-ID`` if it sent a usable one, a new UUID if
it sent none. An id the event could not carry (over 200 characters, control characters) is refused
with a 400 problem document, never a 500.
"""

from __future__ import annotations

import re
import uuid
from typing import Annotated

from fastapi import FastAPI, Header, Response
from pydantic import BaseModel, Field
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from reference.api_design.problems import Problem
from reference.messaging import outbox

REQUEST_ID = "X-Request-ID"
# Printable ASCII only: the id travels as a Kafka header and a log field, where control characters
# (a newline forging a log line, a NUL) do harm.
_USABLE = re.compile(r"[\x21-\x7e]{1,200}")


class NewOrder(BaseModel):
    id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")
    total: int = Field(ge=0, le=10**9)


def create_app(engine: Engine, topic: str) -> FastAPI:
    app = FastAPI()

    @app.post("/orders", status_code=201, response_model=None)
    def place(
        order: NewOrder,
        response: Response,
        request_id: Annotated[str | None, Header(alias=REQUEST_ID)] = None,
    ) -> dict[str, str] | Response:
        if request_id is None:
            request_id = str(uuid.uuid4())
        elif not _USABLE.fullmatch(request_id):
            return Problem(
                400, detail=f"{REQUEST_ID} must be 1-200 printable ASCII characters"
            ).response()
        try:
            event = outbox.place_order(engine, order.id, order.total, request_id, topic)
        except IntegrityError:
            return Problem(409, detail=f"order {order.id!r} exists").response()
        response.headers[REQUEST_ID] = request_id
        return {"order_id": order.id, "event_id": str(event.event_id)}

    return app
