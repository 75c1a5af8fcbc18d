"""Taught in notebooks/05_messaging_kafka.ipynb §2.

Exercise 05.1: publish an order event that keeps its order, its request id, and its failures.

The guide's producer sends ``{key, value: JSON.stringify(message), headers: {'correlation-id':
crypto.randomUUID()}}`` with an optional key: the request's id is lost, one order's events spread
over partitions (no order between them), and nobody looks at whether the broker stored anything.

Write ``publish_order_event``: build the envelope (``reference.messaging.events.Event``: ``key`` is
the order id, ``correlation_id`` the request's ``X-Request-ID``), send it keyed by the order id with a
``correlation-id`` header holding the request id, and return only once the broker acknowledged it —
a refusal raises here. An event the envelope refuses (an empty request id …) raises ``ValueError``
and sends nothing.
"""

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
    # TODO: build the Event, send its bytes keyed by the order id with a correlation-id header,
    # and wait for the send's result before returning.
    event = Event(type=event_type, key=order_id, correlation_id=request_id, data=data)
    future = producer.send(
        topic,
        key=order_id.encode(),
        value=event.to_bytes(),
        headers=[("correlation-id", request_id.encode())],
    )
    future.get(timeout=30)
    return event
