"""Decoy for 05.1: the guide's optional key left out — one order's events spread over partitions. Caught by test_event_is_keyed_and_carries_the_request_id and test_per_order_ordering_over_three_partitions."""

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
    future = producer.send(
        topic,
        key=None,
        value=event.to_bytes(),
        headers=[("correlation-id", request_id.encode())],
    )
    future.get(timeout=30)
    return event
