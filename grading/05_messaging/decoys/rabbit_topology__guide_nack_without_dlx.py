"""Decoy for 05.5: the guide — a plain queue with no dead-letter exchange and nack(requeue=False) on any error: the broker deletes the message. Caught by test_permanent_error_is_dead_lettered_with_x_death and the topology test."""

from __future__ import annotations

from collections.abc import Callable

from pika.adapters.blocking_connection import BlockingChannel

from reference.messaging.events import Event, PoisonMessage, decode_event
from reference.messaging.kafka import PermanentError

DELIVERY_LIMIT = 3


def declare_topology(channel: BlockingChannel, name: str) -> None:
    """Declare the exchanges and queues above; a second call with the same name changes nothing."""
    channel.exchange_declare(name, "topic", durable=True)
    channel.exchange_declare(f"{name}.dlx", "fanout", durable=True)
    channel.queue_declare(
        f"{name}.work",
        durable=True,
        arguments={},
    )
    channel.queue_bind(f"{name}.work", name, routing_key="#")
    channel.queue_declare(f"{name}.dead", durable=True)
    channel.queue_bind(f"{name}.dead", f"{name}.dlx")


def consume_one(channel: BlockingChannel, name: str, handle: Callable[[Event], None]) -> str:
    """Handle one message of ``name.work``; return what became of it (see the module docstring)."""
    method, _properties, body = channel.basic_get(f"{name}.work", auto_ack=False)
    if method is None:
        return "empty"
    try:
        handle(decode_event(body))
    except (PoisonMessage, PermanentError):
        channel.basic_reject(method.delivery_tag, requeue=False)
        return "dead-lettered"
    except Exception:  # noqa: BLE001
        channel.basic_nack(method.delivery_tag, requeue=False)
        return "requeued"
    channel.basic_ack(method.delivery_tag)
    return "acked"
