"""Decoy for 05.6: confirmed and mandatory, but not persistent (delivery_mode 1): a broker restart
loses it. Caught by test_routed_message_is_stored_persistent_with_ids."""

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
        pika.BasicProperties(message_id=str(event.event_id), correlation_id=event.correlation_id),
        mandatory=True,
    )
