"""Decoy for 05.1: send without waiting for the result — returns before the broker has anything, and a refusal is never seen. Caught by test_event_is_keyed_and_carries_the_request_id and test_broker_refusal_raises."""

from __future__ import annotations

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
    producer.send(
        topic,
        key=order_id.encode(),
        value=event.to_bytes(),
        headers=[("correlation-id", request_id.encode())],
    )
    return event
