"""The guide's ``KafkaProducer`` / ``KafkaConsumer`` (메시지 큐 › Kafka), ported from kafkajs to kafka-python.

Taught in notebooks/05_messaging_kafka.ipynb. Defects kept on purpose (each has a test in
``tests/messaging/test_guide_ports.py`` and a fix in ``reference/messaging/``):

- Producer: ``connect()`` is never called, so every ``send`` fails as kafkajs's does ("The producer
  is disconnected", a ``RuntimeError`` here); the correlation id is a fresh random
  UUID per send instead of the request's; the key is optional, so events of one entity spread over
  partitions and lose their order; idempotence dedupes producer retries only.
- Consumer: ``start()`` never connects nor subscribes, so it consumes nothing; one handler per topic,
  a second registration silently replaces the first; a message of a topic without a handler is
  skipped and its offset committed (lost); a tombstone (``value`` null) becomes ``{}`` and is handled
  as an event; a JSON error throws out of ``eachMessage``, kafkajs restarts at the same offset, so one
  poison message blocks its partition for good. No dead-letter topic, no de-duplication.

Liberties, each named where it is taken: the bootstrap address is passed in (the guide hard-codes
``localhost:9092``); ``start`` runs for ``rounds`` polls instead of forever; and
``run_subscribed`` is what the guide's consumer does once someone adds the missing ``subscribe`` —
kafkajs's ``eachMessage`` semantics (auto-commit of handled offsets, restart at the failed offset) —
so the defects behind the first one can be shown too.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from kafka import KafkaConsumer as _Consumer
from kafka import KafkaProducer as _Producer
from kafka import TopicPartition
from kafka.structs import OffsetAndMetadata

Handler = Callable[[Any], Awaitable[None] | None]


class KafkaProducer:
    """``kafka.producer({ idempotent: true })`` — created, never connected."""

    def __init__(self, bootstrap_servers: str) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.producer: _Producer | None = None  # kafkajs: `connect()` would create the connection

    def connect(self) -> None:
        """kafkajs's ``producer.connect()``: the guide's class never calls it."""
        self.producer = _Producer(bootstrap_servers=self.bootstrap_servers, enable_idempotence=True)

    def send(self, topic: str, message: Any, key: str | None = None) -> None:
        """``producer.send({topic, messages: [{key, value, headers: {'correlation-id': randomUUID()}}]})``."""
        if self.producer is None:
            # What kafkajs answers to send() before connect(): "The producer is disconnected".
            raise RuntimeError("The producer is disconnected")
        self.producer.send(
            topic,
            key=key.encode() if key is not None else None,
            value=json.dumps(message).encode(),
            headers=[("correlation-id", str(uuid.uuid4()).encode())],
        ).get(timeout=30)  # `await send` resolves on the broker's ack


class KafkaConsumer:
    """``kafka.consumer({ groupId })`` with a Map of one handler per topic."""

    def __init__(self, group_id: str, bootstrap_servers: str) -> None:
        self.consumer = _Consumer(
            bootstrap_servers=bootstrap_servers,
            group_id=group_id,
            enable_auto_commit=True,  # kafkajs autoCommit defaults to true
            auto_offset_reset="earliest",
        )
        self.handlers: dict[str, Handler] = {}

    def register_handler(self, topic: str, handler: Handler) -> None:
        self.handlers[topic] = handler  # Map.set: a second handler replaces the first, silently

    def each_message(self, topic: str, value: bytes | None) -> None:
        """The guide's ``eachMessage`` body."""
        handler = self.handlers.get(topic)
        if handler:
            # `JSON.parse(message.value?.toString() || '{}')`: a tombstone becomes {}.
            handler(json.loads((value.decode() if value is not None else "") or "{}"))

    def start(self, rounds: int = 5) -> int:
        """``consumer.run({eachMessage})`` without ``connect()``/``subscribe()``: nothing is assigned,
        so every poll is empty. Returns the number of messages handled (always 0)."""
        handled = 0
        for _ in range(rounds):
            if not self.consumer.subscription():
                continue  # nothing subscribed: kafkajs's run() fetches nothing
            for batch in self.consumer.poll(timeout_ms=500).values():
                for record in batch:
                    self.each_message(record.topic, record.value)
                    handled += 1
        return handled

    def run_subscribed(self, topics: list[str], rounds: int = 10) -> None:
        """Liberty: the guide's consumer with ``subscribe`` added, kafkajs semantics otherwise.

        Every handled (or skipped) offset is committed; a throw from ``eachMessage`` restarts the
        consumer at the failed offset, which fails again, and again.
        """
        self.consumer.subscribe(topics)
        for _ in range(rounds):
            for tp, batch in self.consumer.poll(timeout_ms=500).items():
                for record in batch:
                    try:
                        self.each_message(record.topic, record.value)
                    except Exception:  # noqa: BLE001 — kafkajs logs, restarts, retries the same offset
                        self.consumer.seek(tp, record.offset)
                        break
                    self.consumer.commit(
                        {
                            TopicPartition(tp.topic, tp.partition): OffsetAndMetadata(
                                record.offset + 1, "", -1
                            )
                        }
                    )

    def close(self) -> None:
        self.consumer.close()
