"""Taught in notebooks/05_messaging_rabbitmq.ipynb §1.

Exercise 05.6: a publish that is stored or raises.

The guide's ``publish`` calls ``channel.publish(exchange, key, body, { persistent: true })`` and
returns. Without publisher confirms, "persistent" does not mean stored: a publish to a missing
exchange returns normally (the broker closes the channel afterwards), and without ``mandatory`` a
message no queue is bound for is dropped without a word.

Write ``open_publisher`` (a channel in confirm mode) and ``publish_confirmed``, which returns only
once the broker has confirmed the message, and raises otherwise:

* no queue takes it → ``pika.exceptions.UnroutableError``;
* the exchange does not exist → ``pika.exceptions.ChannelClosedByBroker`` (404), at this call;
* the message is persistent (``delivery_mode=2``), JSON (``event.to_bytes()``), and carries the
  event id as ``message_id`` and the correlation id as ``correlation_id``.
"""

from __future__ import annotations

import pika
from pika.adapters.blocking_connection import BlockingChannel

from reference.messaging.events import Event


def open_publisher(connection: pika.BlockingConnection) -> BlockingChannel:
    """A new channel on ``connection`` on which every publish waits for the broker's confirm."""
    # TODO: open a channel and switch it to confirm mode before returning it.
    channel = connection.channel()
    channel.confirm_delivery()
    return channel


def publish_confirmed(
    channel: BlockingChannel, exchange: str, routing_key: str, event: Event
) -> None:
    """Publish ``event`` persistently; return once confirmed, raise if unroutable or refused."""
    # TODO: basic_publish with mandatory=True and persistent properties (message_id, correlation_id,
    # content_type application/json).
    channel.basic_publish(
        exchange,
        routing_key,
        event.to_bytes(),
        pika.BasicProperties(
            delivery_mode=pika.DeliveryMode.Persistent,
            content_type="application/json",
            message_id=str(event.event_id),
            correlation_id=event.correlation_id,
        ),
        mandatory=True,
    )
