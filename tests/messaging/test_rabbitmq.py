"""The reference RabbitMQ client against the live broker: idempotent topology, confirms + mandatory,
permanent → dead-lettered with x-death, transient → 3 retries then parked, a bug → delivery limit,
prefetch bounding in-flight work, a killed consumer's message redelivered, hostile input dead-lettered."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

import httpx
import pika
import pytest
from pika.adapters.blocking_connection import BlockingChannel

from reference.config import REPO_ROOT, Settings
from reference.messaging import rabbitmq
from reference.messaging.events import MAX_EVENT_BYTES, Event
from reference.messaging.kafka import PermanentError, TransientError

WORKER = Path(__file__).with_name("killed_worker.py")
T = rabbitmq.Topology("orders", retry_ttl_ms=100, delivery_limit=2)


def event(n: int = 1) -> Event:
    return Event(type="order.created", key=f"order-{n}", correlation_id="req-1", data={"n": n})


@pytest.fixture
def channel(amqp_url: str) -> Iterator[BlockingChannel]:
    connection, ch = rabbitmq.open_channel(amqp_url)
    rabbitmq.declare_topology(ch, T)
    yield ch
    connection.close()


def test_topology_declares_idempotently(channel: BlockingChannel) -> None:
    rabbitmq.declare_topology(channel, T)  # a second start of the service
    rabbitmq.publish(channel, T.exchange, "order.created", event())
    assert rabbitmq.queue_depth(channel, T.queue) == 1


def test_topology_with_other_arguments_is_refused_loudly(channel: BlockingChannel) -> None:
    with pytest.raises(pika.exceptions.ChannelClosedByBroker, match="PRECONDITION_FAILED"):
        rabbitmq.declare_topology(channel, rabbitmq.Topology("orders", delivery_limit=9))


def test_permanent_error_dead_letters_with_x_death(channel: BlockingChannel) -> None:
    rabbitmq.publish(channel, T.exchange, "order.created", event())

    def reject(e: Event) -> None:
        raise PermanentError("negative total")

    assert rabbitmq.consume(channel, T, reject, max_messages=1).dead_lettered == 1
    ((properties, body),) = rabbitmq.take(channel, T.dead, 1)
    assert rabbitmq.dead_letter_reason(properties) == "rejected"
    assert Event.model_validate_json(body).key == "order-1"


def test_transient_error_retries_three_times_then_parks(channel: BlockingChannel) -> None:
    rabbitmq.publish(channel, T.exchange, "order.created", event())
    attempts: list[Event] = []

    def down(e: Event) -> None:
        attempts.append(e)
        raise TransientError("payment service down")

    result = rabbitmq.consume(channel, T, down, max_messages=4, inactivity_timeout=5)
    assert (result.retried, result.parked, len(attempts)) == (3, 1, 4)
    ((properties, _body),) = rabbitmq.take(channel, T.parking, 1)
    assert properties.headers[rabbitmq.RETRIES_HEADER] == 4
    assert properties.headers["x-last-error"] == "payment service down"
    assert rabbitmq.take(channel, T.dead, 0) == []


def test_a_bug_is_requeued_until_the_delivery_limit_dead_letters_it(
    channel: BlockingChannel,
) -> None:
    rabbitmq.publish(channel, T.exchange, "order.created", event())

    def bug(e: Event) -> None:
        raise KeyError("bug")

    result = rabbitmq.consume(channel, T, bug, inactivity_timeout=2)
    assert result.requeued == T.delivery_limit + 1
    ((properties, _body),) = rabbitmq.take(channel, T.dead, 1)
    assert rabbitmq.dead_letter_reason(properties) == "delivery_limit"


def test_unroutable_publish_raises(channel: BlockingChannel) -> None:
    channel.exchange_declare("lonely", "topic", durable=True)
    with pytest.raises(pika.exceptions.UnroutableError):
        rabbitmq.publish(channel, "lonely", "order.created", event())


def test_prefetch_bounds_unacked_deliveries(amqp_url: str, channel: BlockingChannel) -> None:
    for n in range(20):
        rabbitmq.publish(channel, T.exchange, "order.created", event(n))
    connection, consumer = rabbitmq.open_channel(amqp_url, prefetch=5)
    ready: list[int] = []
    rabbitmq.consume(
        consumer, T, lambda e: ready.append(rabbitmq.queue_depth(channel, T.queue)), max_messages=1
    )
    connection.close()
    assert ready == [15]  # 5 handed to the consumer, 15 still in the queue


def test_consumer_killed_mid_message_is_redelivered(
    amqp_url: str, channel: BlockingChannel
) -> None:
    rabbitmq.publish(channel, T.exchange, "order.created", event())
    run = subprocess.run(
        [sys.executable, str(WORKER), "rabbit", amqp_url, T.name],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == -9, run.stderr
    seen: list[Event] = []
    assert (
        rabbitmq.consume(channel, T, seen.append, max_messages=1, inactivity_timeout=10).acked == 1
    )
    assert [e.key for e in seen] == ["order-1"]


HOSTILE = {
    "not-json": b"{oops",
    "oversized": b'{"a": "' + b"x" * MAX_EVENT_BYTES + b'"}',
    "nul-byte": b'{"type": "a.b\x00"}',
    "wrong-schema-version": event()
    .model_dump_json()
    .replace('"schema_version":1', '"schema_version":2')
    .encode(),
    "not-utf8": b"\xff\xfe",
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_message_is_dead_lettered_and_the_next_one_handled(
    name: str, channel: BlockingChannel
) -> None:
    channel.basic_publish("", T.queue, HOSTILE[name], pika.BasicProperties(delivery_mode=2))
    rabbitmq.publish(channel, T.exchange, "order.created", event(2))
    handled: list[Event] = []
    result = rabbitmq.consume(channel, T, handled.append, max_messages=2)
    assert (result.dead_lettered, result.acked) == (1, 1)
    ((properties, body),) = rabbitmq.take(channel, T.dead, 1)
    assert body == HOSTILE[name]
    assert rabbitmq.dead_letter_reason(properties) == "rejected"
    assert [e.key for e in handled] == ["order-2"]


def test_thousand_confirmed_publishes_are_seen_from_outside(
    amqp_url: str, channel: BlockingChannel, settings: Settings
) -> None:
    for n in range(1000):
        rabbitmq.publish(channel, T.exchange, "order.created", event(n))
    vhost = unquote(urlsplit(amqp_url).path[1:])
    parts = urlsplit(settings.rabbitmq_management_url)
    with httpx.Client(
        base_url=f"{parts.scheme}://{parts.hostname}:{parts.port}",
        auth=(parts.username or "", parts.password or ""),
    ) as api:
        # The management API's counters refresh every few seconds: ask until they show the publishes.
        depth = 0
        for _ in range(60):
            depth = api.get(f"/api/queues/{vhost}/{T.queue}").json().get("messages", 0)
            if depth == 1000:
                break
            time.sleep(0.5)
    assert depth == 1000
