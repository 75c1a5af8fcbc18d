"""The guide's ``RabbitMQClient`` (메시지 큐 › RabbitMQ), ported from amqplib to pika (blocking).

Taught in notebooks/05_messaging_rabbitmq.ipynb. Defects kept on purpose (each has a test in
``tests/messaging/test_guide_ports.py`` and a fix in ``reference/messaging/rabbitmq.py``):

- ``publish``: no publisher confirms, so ``persistent: true`` does not mean stored — a publish to a
  missing exchange "succeeds" and the broker closes the channel afterwards; no ``mandatory``, so an
  unroutable message is dropped without a word; the ``publish() == false`` backpressure signal is
  ignored: on a broker blocking publishers (resource alarm) ``publish`` returns with nothing stored
  and ``close`` hangs until the alarm clears (``tests/messaging/test_rabbitmq_blocked.py``).
- ``consume``: any error → ``nack(msg, false, false)``; with no dead-letter exchange declared (the
  guide declares nothing) the message is gone. Transient and permanent failures are treated alike.
- Nothing is declared, durable or otherwise.

Liberty: ``consume`` takes ``max_messages`` so a test can stop it (amqplib's consumer runs forever).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pika
from pika.adapters.blocking_connection import BlockingChannel


class RabbitMQClient:
    def __init__(self) -> None:
        self.channel: BlockingChannel | None = None
        self.connection: pika.BlockingConnection | None = None

    def connect(self, url: str) -> None:
        """``amqp.connect(process.env.RABBITMQ_URL!)``, one channel, ``prefetch(10)``."""
        self.connection = pika.BlockingConnection(pika.URLParameters(url))
        self.channel = self.connection.channel()
        self.channel.basic_qos(prefetch_count=10)

    def publish(self, exchange: str, routing_key: str, message: Any) -> None:
        assert self.channel is not None  # the guide's `this.channel!`
        self.channel.basic_publish(
            exchange,
            routing_key,
            json.dumps(message).encode(),
            pika.BasicProperties(delivery_mode=2),  # persistent: true
        )

    def consume(self, queue: str, handler: Callable[[Any], None], max_messages: int) -> None:
        assert self.channel is not None
        channel = self.channel
        for method, _properties, body in channel.consume(queue, inactivity_timeout=2):
            if method is None:
                break
            try:
                handler(json.loads(body.decode()))
                channel.basic_ack(method.delivery_tag)
            except Exception:  # noqa: BLE001 — `catch { nack(msg, false, false) }`
                channel.basic_nack(method.delivery_tag, multiple=False, requeue=False)
            max_messages -= 1
            if max_messages == 0:
                break
        channel.cancel()

    def close(self) -> None:
        if self.connection is not None and self.connection.is_open:
            self.connection.close()
