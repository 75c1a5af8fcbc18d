"""Grading for exercise 05.5: a topology where a failed message is never lost and never loops forever
(exercises/05_messaging/rabbit_topology.py). Graded on the broker's state."""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType
from urllib.parse import unquote, urlsplit

import pika
import pytest
from pika.adapters.blocking_connection import BlockingChannel

from reference.messaging import rabbitmq
from reference.messaging.events import Event
from reference.messaging.kafka import PermanentError
from reference.messaging.sandbox import management_client


@pytest.fixture
def channel(exercise: ModuleType, amqp_url: str) -> Iterator[BlockingChannel]:
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    ch = connection.channel()
    ch.confirm_delivery()
    exercise.declare_topology(ch, "shop")
    yield ch
    if connection.is_open:
        connection.close()


def publish(channel: BlockingChannel, body: bytes) -> None:
    channel.basic_publish(
        "shop", "order.created", body, pika.BasicProperties(delivery_mode=2), mandatory=True
    )


def event() -> bytes:
    return Event(type="order.created", key="order-1", correlation_id="req-1").to_bytes()


def dead(channel: BlockingChannel, expect: int = 1) -> list[str | None]:
    """The x-death reasons in shop.dead, waiting for ``expect`` (dead-lettering is asynchronous)."""
    return [
        rabbitmq.dead_letter_reason(p) for p, _body in rabbitmq.take(channel, "shop.dead", expect)
    ]


def permanent(e: Event) -> None:
    raise PermanentError("negative total")


def bug(e: Event) -> None:
    raise KeyError("bug")


def test_topology_is_durable_quorum_and_idempotent(
    exercise: ModuleType, channel: BlockingChannel, amqp_url: str
) -> None:
    """A second declare_topology is a no-op; shop.work is a durable quorum queue with a delivery
    limit and shop.dlx as dead-letter exchange (read from the management API)."""
    exercise.declare_topology(channel, "shop")
    vhost = unquote(urlsplit(amqp_url).path[1:])
    with management_client() as api:
        queue = api.get(f"/api/queues/{vhost}/shop.work").json()
    assert queue.get("type") == "quorum", f"shop.work is a {queue.get('type')} queue"
    assert queue.get("durable") is True
    assert queue["arguments"].get("x-dead-letter-exchange") == "shop.dlx"
    assert isinstance(queue["arguments"].get("x-delivery-limit"), int)


def test_success_is_acked(exercise: ModuleType, channel: BlockingChannel) -> None:
    """A message the handler accepts is acked: gone from shop.work, nothing in shop.dead."""
    publish(channel, event())
    assert exercise.consume_one(channel, "shop", lambda e: None) == "acked"
    assert rabbitmq.queue_depth(channel, "shop.work") == 0
    assert dead(channel, expect=0) == []


def test_permanent_error_is_dead_lettered_with_x_death(
    exercise: ModuleType, channel: BlockingChannel
) -> None:
    """PermanentError → the message is in shop.dead with x-death reason 'rejected' (not deleted,
    not back in shop.work)."""
    publish(channel, event())
    assert exercise.consume_one(channel, "shop", permanent) == "dead-lettered"
    assert dead(channel) == ["rejected"]
    assert rabbitmq.queue_depth(channel, "shop.work") == 0


@pytest.mark.parametrize("body", [b"not-json", b"\x00\x01", b'{"type": "order.created"}'])
def test_unreadable_message_is_dead_lettered(
    exercise: ModuleType, channel: BlockingChannel, body: bytes
) -> None:
    """A body that is not a valid event never reaches the handler and is dead-lettered."""
    publish(channel, body)
    calls: list[Event] = []
    assert exercise.consume_one(channel, "shop", calls.append) == "dead-lettered"
    assert calls == []
    assert dead(channel) == ["rejected"]


def test_a_bug_is_retried_then_dead_lettered_by_the_delivery_limit(
    exercise: ModuleType, channel: BlockingChannel
) -> None:
    """Any other exception requeues; the quorum queue's delivery limit dead-letters the message
    (reason 'delivery_limit') instead of redelivering it forever. 20 tries at most."""
    publish(channel, event())
    outcomes = []
    for _ in range(20):
        outcome = exercise.consume_one(channel, "shop", bug)
        outcomes.append(outcome)
        if outcome == "empty":
            break
    assert outcomes[0] == "requeued"
    assert outcomes[-1] == "empty", (
        f"still redelivered after {len(outcomes)} tries: a loop with no end"
    )
    assert dead(channel) == ["delivery_limit"]


def test_empty_queue(exercise: ModuleType, channel: BlockingChannel) -> None:
    """No message → 'empty'."""
    assert exercise.consume_one(channel, "shop", lambda e: None) == "empty"
