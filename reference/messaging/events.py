"""The event envelope every message of chapter 05 carries, validated before it is sent and when it
is read (notebooks/05_messaging_kafka.ipynb §1).

One model for both directions: a producer cannot send an event the consumer would refuse, and a
consumer turns anything it cannot read — not JSON, too large, NUL bytes, an unknown schema version —
into one exception, :class:`PoisonMessage`, whose message is the reason the dead-letter copy carries.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Final, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, JsonValue, ValidationError

SCHEMA_VERSION: Final = 1
# Kafka's default max.message.bytes is ~1 MiB; an event is a fact, not a payload store. Checked before
# parsing so a huge message costs no JSON work.
MAX_EVENT_BYTES: Final = 64 * 1024


class PoisonMessage(ValueError):
    """A message no retry can fix; its text is the reason recorded with the dead-lettered copy."""


class Event(BaseModel):
    """``event_id`` makes effects idempotent, ``key`` (the entity id) orders them, ``correlation_id``
    ties them to the request that caused them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    type: str = Field(pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$", max_length=100)
    schema_version: Literal[1] = SCHEMA_VERSION
    occurred_at: AwareDatetime = Field(default_factory=lambda: datetime.now(UTC))
    correlation_id: str = Field(min_length=1, max_length=200)
    key: str = Field(min_length=1, max_length=200)
    data: dict[str, JsonValue] = Field(default_factory=dict)

    def to_bytes(self) -> bytes:
        raw = self.model_dump_json().encode()
        if len(raw) > MAX_EVENT_BYTES:
            raise ValueError(f"event is {len(raw)} bytes, over the {MAX_EVENT_BYTES}-byte limit")
        if b"\\u0000" in raw:
            # PostgreSQL's jsonb (the outbox, the consumers' tables) refuses \u0000: refuse it here,
            # where the caller can still fix it, not in a consumer three services away.
            raise ValueError("event contains a NUL character")
        return raw


def decode_event(raw: bytes | None) -> Event:
    """Parse and validate one message value; every way it can be unreadable is a :class:`PoisonMessage`."""
    if raw is None:
        raise PoisonMessage("no value (a tombstone where an event was expected)")
    if len(raw) > MAX_EVENT_BYTES:
        raise PoisonMessage(f"message is {len(raw)} bytes, over the {MAX_EVENT_BYTES}-byte limit")
    if b"\x00" in raw or b"\\u0000" in raw:
        raise PoisonMessage("message contains a NUL byte")
    try:
        return Event.model_validate_json(raw)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "message"
        raise PoisonMessage(f"invalid event: {where}: {first['msg']}") from None
