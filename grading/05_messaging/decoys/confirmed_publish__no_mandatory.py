"""Decoy for 05.6: confirms on, but no mandatory — the broker confirms an unroutable message it
dropped. Caught by test_unroutable_message_raises."""

from __future__ import annotations

import pika
from pika.adapters.blocking_connection import BlockingChannel

from reference.messaging.events import Event


def open_publisher(connection: pika.BlockingConnection) -> BlockingChannel:
    channel = connection.channel()
    channel.confirm_delivery()
    return channel


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
