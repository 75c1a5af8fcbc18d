"""Decoy for 05.6: the guide's publish — persistent, but no confirm mode and no mandatory. Caught by
test_unroutable_message_raises and test_missing_exchange_raises_at_the_call."""

from __future__ import annotations

import pika
from pika.adapters.blocking_connection import BlockingChannel

from reference.messaging.events import Event


def open_publisher(connection: pika.BlockingConnection) -> BlockingChannel:
    return connection.channel()


def publish_confirmed(
    channel: BlockingChannel, exchange: str, routing_key: str, event: Event
) -> None:
    channel.basic_publish(
        exchange,
        routing_key,
        event.to_bytes(),
        pika.BasicProperties(
            delivery_mode=2, message_id=str(event.event_id), correlation_id=event.correlation_id
        ),
    )
