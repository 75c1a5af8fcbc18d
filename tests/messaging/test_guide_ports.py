"""Every defect of guide-defects §5.1–5.3 and §4.1, shown on the faithful port (guide/messaging/) and
absent in the reference (reference/messaging/), against the live Kafka, RabbitMQ and PostgreSQL."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pika
import pika.exceptions
import pytest
from kafka import KafkaProducer
from sqlalchemy import Engine, text

from guide.messaging import dual_write
from guide.messaging.kafka_client import KafkaConsumer as GuideConsumer
from guide.messaging.kafka_client import KafkaProducer as GuideProducer
from guide.messaging.rabbitmq_client import RabbitMQClient
from reference.messaging import outbox, rabbitmq
from reference.messaging.events import Event
from reference.messaging.kafka import (
    CORRELATION_HEADER,
    DLQ_ERROR,
    DLQ_OFFSET,
    DLQ_PARTITION,
    DLQ_TOPIC,
    Processor,
    TransientError,
    committed_offsets,
    header,
    make_consumer,
    publish_event,
    read_topic,
    route_by_type,
)


def event(key: str = "order-1", type: str = "order.created", **data: Any) -> Event:
    return Event(type=type, key=key, correlation_id="req-1", data=data)


@pytest.fixture
def guide_consumer(bootstrap: str, group: str) -> Iterator[GuideConsumer]:
    consumer = GuideConsumer(group, bootstrap)
    yield consumer
    consumer.close()


def processor(
    bootstrap: str,
    group: str,
    topic: str,
    producer: KafkaProducer,
    dlq: str,
    **handlers: Callable[..., Any],
) -> Processor:
    return Processor(
        consumer=make_consumer(bootstrap, group, topic),
        producer=producer,
        dlq_topic=dlq,
        handle=handlers.get("handle", lambda e: None),
        on_delete=handlers.get("on_delete", lambda k: None),
        sleep=lambda s: None,
    )


def drain(p: Processor) -> None:
    p.run_until_caught_up()
    p.close()


# --- 5.1 producer ---------------------------------------------------------------------------


def test_guide_producer_is_never_connected(bootstrap: str, kafka_topic: Callable[..., str]) -> None:
    topic = kafka_topic()
    with pytest.raises(RuntimeError, match="disconnected"):
        GuideProducer(bootstrap).send(topic, {"orderId": 1}, key="order-1")


def test_reference_producer_sends(
    bootstrap: str, kafka_topic: Callable[..., str], producer: KafkaProducer
) -> None:
    topic = kafka_topic()
    publish_event(producer, topic, event())
    assert len(read_topic(bootstrap, topic)) == 1


def test_guide_correlation_id_is_random_per_send(
    bootstrap: str, kafka_topic: Callable[..., str]
) -> None:
    topic = kafka_topic()
    guide = GuideProducer(bootstrap)
    guide.connect()  # what the guide forgot, so the next defect can show
    guide.send(topic, {"orderId": 1}, key="order-1")
    guide.send(topic, {"orderId": 1}, key="order-1")
    ids = [header(r, "correlation-id") for r in read_topic(bootstrap, topic)]
    assert "req-1" not in ids
    assert ids[0] != ids[1]


def test_reference_correlation_id_is_the_request_id(
    bootstrap: str, kafka_topic: Callable[..., str], producer: KafkaProducer
) -> None:
    topic = kafka_topic()
    publish_event(producer, topic, event())
    (record,) = read_topic(bootstrap, topic)
    assert header(record, CORRELATION_HEADER) == "req-1"


def test_guide_unkeyed_events_of_one_entity_spread_over_partitions(
    bootstrap: str, kafka_topic: Callable[..., str]
) -> None:
    """Without a key, one order's events land on several partitions: no order between them."""
    topic = kafka_topic(partitions=3)
    guide = GuideProducer(bootstrap)
    guide.connect()
    for seq in range(60):
        guide.send(topic, {"orderId": "order-1", "seq": seq})
    assert len({r.partition for r in read_topic(bootstrap, topic)}) > 1


def test_reference_keyed_events_keep_per_key_order(
    bootstrap: str, kafka_topic: Callable[..., str], producer: KafkaProducer
) -> None:
    """1,000 events of 10 entities over 3 partitions: each entity's events read back in send order."""
    topic = kafka_topic(partitions=3)
    for seq in range(1000):
        producer.send(
            topic,
            key=f"order-{seq % 10}".encode(),
            value=event(f"order-{seq % 10}", seq=seq).to_bytes(),
        )
    producer.flush()
    seen: dict[str, list[int]] = {}
    partitions: dict[str, set[int]] = {}
    for record in read_topic(bootstrap, topic):
        body = json.loads(record.value)
        seen.setdefault(body["key"], []).append(body["data"]["seq"])
        partitions.setdefault(body["key"], set()).add(record.partition)
    assert sum(len(v) for v in seen.values()) == 1000
    assert all(v == sorted(v) for v in seen.values())
    assert all(len(p) == 1 for p in partitions.values())
    assert len(set().union(*partitions.values())) > 1  # the load is spread all the same


# --- 5.2 consumer ---------------------------------------------------------------------------


def test_guide_consumer_consumes_nothing(
    bootstrap: str,
    kafka_topic: Callable[..., str],
    producer: KafkaProducer,
    guide_consumer: GuideConsumer,
) -> None:
    topic = kafka_topic()
    publish_event(producer, topic, event())
    calls: list[Any] = []
    guide_consumer.register_handler(topic, calls.append)
    assert guide_consumer.start(rounds=3) == 0
    assert calls == []


def test_reference_consumer_consumes(
    bootstrap: str, kafka_topic: Callable[..., str], producer: KafkaProducer, group: str
) -> None:
    topic, dlq = kafka_topic(), kafka_topic()
    publish_event(producer, topic, event())
    calls: list[Event] = []
    p = processor(bootstrap, group, topic, producer, dlq, handle=calls.append)
    drain(p)
    assert [c.key for c in calls] == ["order-1"]


def test_guide_second_handler_silently_replaces_the_first(
    kafka_topic: Callable[..., str], guide_consumer: GuideConsumer
) -> None:
    first: list[Any] = []
    second: list[Any] = []
    guide_consumer.register_handler("orders", first.append)
    guide_consumer.register_handler("orders", second.append)
    guide_consumer.each_message("orders", b'{"orderId": 1}')
    assert first == []
    assert second == [{"orderId": 1}]


def test_guide_message_without_handler_is_committed_and_lost(
    bootstrap: str,
    kafka_topic: Callable[..., str],
    producer: KafkaProducer,
    guide_consumer: GuideConsumer,
    group: str,
) -> None:
    handled, unhandled = kafka_topic(), kafka_topic()
    publish_event(producer, unhandled, event())
    guide_consumer.register_handler(handled, lambda m: None)
    guide_consumer.run_subscribed([handled, unhandled], rounds=6)
    assert committed_offsets(bootstrap, group, unhandled) == {0: 1}  # gone, nobody handled it


def test_reference_event_without_handler_is_dead_lettered(
    bootstrap: str, kafka_topic: Callable[..., str], producer: KafkaProducer, group: str
) -> None:
    topic, dlq = kafka_topic(), kafka_topic()
    publish_event(producer, topic, event(type="order.shipped"))
    p = processor(
        bootstrap,
        group,
        topic,
        producer,
        dlq,
        handle=route_by_type({"order.created": lambda e: None}),
    )
    drain(p)
    (dead,) = read_topic(bootstrap, dlq)
    assert "no handler for event type 'order.shipped'" in (header(dead, DLQ_ERROR) or "")


def test_guide_tombstone_is_handled_as_an_empty_event(guide_consumer: GuideConsumer) -> None:
    calls: list[Any] = []
    guide_consumer.register_handler("orders", calls.append)
    guide_consumer.each_message("orders", None)
    assert calls == [{}]


def test_guide_poison_message_blocks_its_partition(
    bootstrap: str,
    kafka_topic: Callable[..., str],
    producer: KafkaProducer,
    guide_consumer: GuideConsumer,
    group: str,
) -> None:
    topic = kafka_topic()
    for value in [b'{"n": 1}', b"not-json", b'{"n": 2}']:
        producer.send(topic, key=b"k", value=value)
    producer.flush()
    calls: list[Any] = []
    guide_consumer.register_handler(topic, calls.append)
    guide_consumer.run_subscribed([topic], rounds=8)
    assert calls == [{"n": 1}]  # {"n": 2} waits behind "not-json" forever
    assert committed_offsets(bootstrap, group, topic) == {0: 1}


def test_reference_batch_with_poison_and_tombstone(
    bootstrap: str, kafka_topic: Callable[..., str], producer: KafkaProducer, group: str
) -> None:
    """[ok, "not-json", tombstone, ok] → 2 handler calls, the bad one in the DLQ with its coordinates,
    the tombstone to the delete handler, committed offset 4."""
    topic, dlq = kafka_topic(), kafka_topic()
    for value in [event(n=1).to_bytes(), b"not-json", None, event(n=2).to_bytes()]:
        producer.send(topic, key=b"order-1", value=value)
    producer.flush()
    calls: list[Event] = []
    deleted: list[str] = []
    p = processor(
        bootstrap, group, topic, producer, dlq, handle=calls.append, on_delete=deleted.append
    )
    drain(p)
    assert [c.data["n"] for c in calls] == [1, 2]
    assert deleted == ["order-1"]
    (dead,) = read_topic(bootstrap, dlq)
    assert dead.value == b"not-json"
    assert dead.key == b"order-1"
    assert (header(dead, DLQ_TOPIC), header(dead, DLQ_PARTITION), header(dead, DLQ_OFFSET)) == (
        topic,
        "0",
        "1",
    )
    assert (header(dead, DLQ_ERROR) or "").startswith("invalid event: message: Invalid JSON")
    assert committed_offsets(bootstrap, group, topic) == {0: 4}


# --- 5.3 RabbitMQ ---------------------------------------------------------------------------


@pytest.fixture
def guide_client(amqp_url: str) -> Iterator[RabbitMQClient]:
    client = RabbitMQClient()
    client.connect(amqp_url)
    yield client
    client.close()


@pytest.fixture
def ref_channel(amqp_url: str) -> Iterator[pika.adapters.blocking_connection.BlockingChannel]:
    connection, channel = rabbitmq.open_channel(amqp_url)
    rabbitmq.declare_topology(channel, rabbitmq.Topology("orders"))
    yield channel
    connection.close()


def fail(message: Any) -> None:
    raise RuntimeError("handler failed")


def test_guide_nack_without_dlx_drops_the_message(
    amqp_url: str, guide_client: RabbitMQClient
) -> None:
    assert guide_client.channel is not None
    guide_client.channel.queue_declare("orders", durable=True)
    guide_client.publish("", "orders", {"orderId": 1})
    guide_client.consume("orders", fail, max_messages=1)
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    queues = [q for q in ["orders"] if rabbitmq.queue_depth(connection.channel(), q)]
    connection.close()
    assert queues == []  # nacked without requeue, no DLX: nowhere


def test_reference_permanent_failure_is_dead_lettered_with_x_death(
    ref_channel: pika.adapters.blocking_connection.BlockingChannel,
) -> None:
    t = rabbitmq.Topology("orders")
    rabbitmq.publish(ref_channel, t.exchange, "order.created", event())
    result = rabbitmq.consume(ref_channel, t, fail, max_messages=1)
    assert result.requeued == 1  # a RuntimeError is a bug: requeued, bounded by the delivery limit
    from reference.messaging.kafka import PermanentError

    def permanent(e: Event) -> None:
        raise PermanentError("order total is negative")

    rabbitmq.consume(ref_channel, t, permanent, max_messages=1)
    ((properties, body),) = rabbitmq.take(ref_channel, t.dead, 1)
    assert json.loads(body)["key"] == "order-1"
    assert rabbitmq.dead_letter_reason(properties) == "rejected"


def test_guide_publish_to_missing_exchange_returns_normally(guide_client: RabbitMQClient) -> None:
    guide_client.publish("no-such-exchange", "order.created", {"orderId": 1})  # no error: lost
    assert guide_client.channel is not None
    with pytest.raises(pika.exceptions.ChannelClosedByBroker):  # the close arrives later, elsewhere
        guide_client.channel.queue_declare("anything")


def test_reference_publish_to_missing_exchange_raises(
    ref_channel: pika.adapters.blocking_connection.BlockingChannel,
) -> None:
    with pytest.raises(pika.exceptions.ChannelClosedByBroker, match="404"):
        rabbitmq.publish(ref_channel, "no-such-exchange", "order.created", event())


def test_guide_unroutable_message_vanishes(amqp_url: str, guide_client: RabbitMQClient) -> None:
    assert guide_client.channel is not None
    guide_client.channel.exchange_declare("events", "topic", durable=True)  # no queue bound
    guide_client.publish("events", "order.created", {"orderId": 1})
    assert guide_client.channel.is_open  # nothing said, nothing stored


def test_reference_unroutable_message_raises(
    ref_channel: pika.adapters.blocking_connection.BlockingChannel,
) -> None:
    ref_channel.exchange_declare("events", "topic", durable=True)
    with pytest.raises(pika.exceptions.UnroutableError):
        rabbitmq.publish(ref_channel, "events", "order.created", event())


def test_guide_transient_failure_is_dropped_like_a_permanent_one(
    guide_client: RabbitMQClient, amqp_url: str
) -> None:
    assert guide_client.channel is not None
    guide_client.channel.queue_declare("orders", durable=True)
    guide_client.publish("", "orders", {"orderId": 1})
    attempts: list[Any] = []

    def flaky(message: Any) -> None:
        attempts.append(message)
        if len(attempts) == 1:
            raise TimeoutError("database busy")  # would succeed a moment later

    guide_client.consume("orders", flaky, max_messages=2)
    assert len(attempts) == 1  # never tried again


def test_reference_transient_failure_is_retried(
    ref_channel: pika.adapters.blocking_connection.BlockingChannel,
) -> None:
    t = rabbitmq.Topology("orders")
    rabbitmq.publish(ref_channel, t.exchange, "order.created", event())
    attempts: list[Event] = []

    def flaky(e: Event) -> None:
        attempts.append(e)
        if len(attempts) == 1:
            raise TransientError("database busy")

    result = rabbitmq.consume(ref_channel, t, flaky, max_messages=2, inactivity_timeout=3)
    assert (result.retried, result.acked, len(attempts)) == (1, 1, 2)


# --- 4.1 the dual write ---------------------------------------------------------------------


def broker_down(message: dict[str, Any]) -> None:
    raise ConnectionError("Kafka unreachable")


def test_guide_dual_write_commits_an_order_nobody_hears_about(pg_engine: Engine) -> None:
    dual_write.create_orders_table(pg_engine)
    with pytest.raises(ConnectionError):
        dual_write.place_order(pg_engine, "order-1", 10, broker_down)
    with pg_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM orders")).scalar() == 1  # and no event, ever


def test_reference_outbox_publishes_the_committed_order_later(
    pg_engine: Engine, bootstrap: str, kafka_topic: Callable[..., str], producer: KafkaProducer
) -> None:
    topic = kafka_topic()
    with pg_engine.begin() as conn:
        outbox.create_tables(conn)
    placed = outbox.place_order(pg_engine, "order-1", 10, "req-1", topic)
    # The broker was down at that moment: nothing to do here; the relay publishes once it is back.
    assert outbox.relay_all(pg_engine, producer) == 1
    (record,) = read_topic(bootstrap, topic)
    assert uuid.UUID(json.loads(record.value)["event_id"]) == placed.event_id
