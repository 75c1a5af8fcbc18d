"""Decoy for 05.1: the guide's header — a fresh uuid4 per send instead of the request id. Caught by test_event_is_keyed_and_carries_the_request_id and test_two_sends_of_one_request_share_its_id."""

from __future__ import annotations

import uuid

from kafka import KafkaProducer
from pydantic import JsonValue

from reference.messaging.events import Event


def publish_order_event(
    producer: KafkaProducer,
    topic: str,
    order_id: str,
    event_type: str,
    data: dict[str, JsonValue],
    request_id: str,
) -> Event:
    """Send one ``event_type`` event about ``order_id``; return the event once the broker acked it."""
    event = Event(type=event_type, key=order_id, correlation_id=request_id, data=data)
    future = producer.send(
        topic,
        key=order_id.encode(),
        value=event.to_bytes(),
        headers=[("correlation-id", str(uuid.uuid4()).encode())],
    )
    future.get(timeout=30)
    return event
