"""Grading for exercise 05.6: a publish that is stored or raises (exercises/05_messaging/confirmed_publish.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from types import ModuleType

import pika
import pika.exceptions
import pytest
from pika.adapters.blocking_connection import BlockingChannel

from reference.messaging import rabbitmq
from reference.messaging.events import Event


@pytest.fixture
def connection(amqp_url: str) -> Iterator[pika.BlockingConnection]:
    conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
    admin = conn.channel()
    admin.exchange_declare("orders", "topic", durable=True)
    admin.queue_declare("orders.work", durable=True)
    admin.queue_bind("orders.work", "orders", routing_key="order.*")
    yield conn
    if conn.is_open:
        conn.close()


@pytest.fixture
def publisher(exercise: ModuleType, connection: pika.BlockingConnection) -> BlockingChannel:
    channel: BlockingChannel = exercise.open_publisher(connection)
    return channel


def event(n: int = 1) -> Event:
    return Event(type="order.created", key=f"order-{n}", correlation_id=f"req-{n}", data={"n": n})


def test_routed_message_is_stored_persistent_with_ids(
    exercise: ModuleType, publisher: BlockingChannel, connection: pika.BlockingConnection
) -> None:
    """A routed publish lands in the bound queue as JSON, persistent (delivery_mode 2), with the
    event id as message_id and the request's correlation id."""
    e = event()
    exercise.publish_confirmed(publisher, "orders", "order.created", e)
    method, properties, body = connection.channel().basic_get("orders.work", auto_ack=True)
    assert method is not None, "nothing arrived in the bound queue"
    assert json.loads(body)["event_id"] == str(e.event_id)
    assert properties.delivery_mode == 2, "the message is not persistent"
    assert properties.message_id == str(e.event_id)
    assert properties.correlation_id == "req-1"


def test_unroutable_message_raises(exercise: ModuleType, publisher: BlockingChannel) -> None:
    """A message no queue is bound for must raise pika.exceptions.UnroutableError (mandatory=True
    on a confirming channel), not vanish."""
    with pytest.raises(pika.exceptions.UnroutableError):
        exercise.publish_confirmed(publisher, "orders", "invoice.created", event())


def test_missing_exchange_raises_at_the_call(
    exercise: ModuleType, publisher: BlockingChannel
) -> None:
    """A publish to an exchange that does not exist must fail at that call (ChannelClosedByBroker
    404), because publish_confirmed waits for the broker's answer."""
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as caught:
        exercise.publish_confirmed(publisher, "no-such-exchange", "order.created", event())
    assert caught.value.reply_code == 404


def test_thousand_confirmed_publishes_are_all_in_the_queue(
    exercise: ModuleType, publisher: BlockingChannel, connection: pika.BlockingConnection
) -> None:
    """After 1,000 calls have returned, the queue holds 1,000 messages."""
    for n in range(1000):
        exercise.publish_confirmed(publisher, "orders", "order.created", event(n))
    assert rabbitmq.queue_depth(connection.channel(), "orders.work") == 1000
