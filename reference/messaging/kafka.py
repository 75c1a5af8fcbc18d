"""Kafka that loses nothing: a keyed idempotent producer, a consumer that commits after processing,
a dead-letter topic with the original coordinates, tombstones routed to a delete handler, retries
with backoff for transient errors, and a replay of the dead-letter topic once the bug is fixed.

Taught in notebooks/05_messaging_kafka.ipynb §2–§5. kafka-python's consumer is not thread-safe: one
:class:`Processor` per thread.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from kafka.structs import OffsetAndMetadata

from reference.config import kafka_auth
from reference.messaging.events import Event, PoisonMessage, decode_event

log = logging.getLogger(__name__)

CORRELATION_HEADER: Final = "correlation-id"
# Headers of a dead-lettered copy: where it came from and why it was refused.
DLQ_TOPIC: Final = "dlq.topic"
DLQ_PARTITION: Final = "dlq.partition"
DLQ_OFFSET: Final = "dlq.offset"
DLQ_ERROR: Final = "dlq.error"
_DLQ_HEADERS: Final = frozenset({DLQ_TOPIC, DLQ_PARTITION, DLQ_OFFSET, DLQ_ERROR})
SEND_TIMEOUT_S: Final = 30.0


class TransientError(Exception):
    """The handler may succeed if tried again (a timeout, a lock, a dependency restarting)."""


class PermanentError(Exception):
    """The handler will never succeed with this event (it breaks a business rule)."""


def make_producer(bootstrap_servers: str, **overrides: Any) -> KafkaProducer:
    """Idempotent, ``acks=all``: a retried send is written once, and an ack means every in-sync
    replica has it."""
    options: dict[str, Any] = {"enable_idempotence": True, "acks": "all", "linger_ms": 5}
    options.update(overrides)
    return KafkaProducer(bootstrap_servers=bootstrap_servers, **kafka_auth(), **options)


def make_consumer(
    bootstrap_servers: str, group_id: str, *topics: str, **overrides: Any
) -> KafkaConsumer:
    """A group member that commits only when told to, starting from the oldest message it never saw."""
    options: dict[str, Any] = {
        "group_id": group_id,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "max_poll_records": 100,
    }
    options.update(overrides)
    consumer = KafkaConsumer(bootstrap_servers=bootstrap_servers, **kafka_auth(), **options)
    if topics:
        consumer.subscribe(list(topics))
    return consumer


def publish_event(producer: KafkaProducer, topic: str, event: Event) -> None:
    """Send one event keyed by its entity (per-key order) with the request's correlation id, and wait
    for the broker's ack: a failure raises here instead of vanishing in a callback."""
    producer.send(
        topic,
        key=event.key.encode(),
        value=event.to_bytes(),
        headers=[(CORRELATION_HEADER, event.correlation_id.encode())],
    ).get(timeout=SEND_TIMEOUT_S)


def route_by_type(handlers: Mapping[str, Callable[[Event], None]]) -> Callable[[Event], None]:
    """One handler per event type, fixed at construction (no registration to overwrite silently);
    an event of a type nobody handles is a :class:`PermanentError` — dead-lettered, never skipped."""
    routes = dict(handlers)

    def handle(event: Event) -> None:
        try:
            handler = routes[event.type]
        except KeyError:
            raise PermanentError(f"no handler for event type {event.type!r}") from None
        handler(event)

    return handle


def header(record: ConsumerRecord, name: str) -> str | None:
    for key, value in record.headers or []:
        if key == name:
            return bytes(value).decode(errors="replace")
    return None


def read_topic(bootstrap: str, topic: str) -> list[ConsumerRecord]:
    """Every record of ``topic`` from the beginning to its end offsets as of now (no group, no waiting
    for a timeout: it stops when each partition's position reaches its end)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, **kafka_auth(), enable_auto_commit=False)
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        ends = consumer.end_offsets(tps)
        records: list[ConsumerRecord] = []
        while any(consumer.position(tp) < ends[tp] for tp in tps):
            for batch in consumer.poll(timeout_ms=500).values():
                records.extend(batch)
        return records
    finally:
        consumer.close()


def committed_offsets(bootstrap: str, group: str, topic: str) -> dict[int, int]:
    """The group's committed offset per partition of ``topic``."""
    reader = KafkaConsumer(
        bootstrap_servers=bootstrap,
        **kafka_auth(),
        group_id=group,
        enable_auto_commit=False,
    )
    try:
        found = {
            p: reader.committed(TopicPartition(topic, p))
            for p in reader.partitions_for_topic(topic) or set()
        }
    finally:
        reader.close()
    return {p: offset for p, offset in found.items() if offset is not None}


@dataclass
class BatchResult:
    handled: int = 0
    deleted: int = 0
    dead_lettered: int = 0
    retried: int = 0


@dataclass
class Processor:
    """Polls a batch, handles each record, dead-letters what cannot be handled, then commits.

    ``handle`` raises :class:`TransientError` (retried with exponential backoff, then dead-lettered)
    or :class:`PermanentError` (dead-lettered at once). Any other exception is a bug of ours: the
    records before it are committed, the consumer rewinds to it and the exception propagates — the
    message is neither skipped nor dead-lettered for a fault the next deploy fixes.
    """

    consumer: KafkaConsumer
    producer: KafkaProducer
    dlq_topic: str
    handle: Callable[[Event], None]
    on_delete: Callable[[str], None]
    retries: int = 3
    backoff_s: float = 0.05
    sleep: Callable[[float], None] = field(default=time.sleep)

    def process_batch(self, timeout_ms: int = 1000) -> BatchResult:
        result = BatchResult()
        batches = list(self.consumer.poll(timeout_ms=timeout_ms).items())
        for index, (tp, records) in enumerate(batches):
            done = records[0].offset
            try:
                for record in records:
                    self._process(record, result)
                    done = record.offset + 1
            except BaseException:
                # The failed record, and the partitions not reached yet, are read again, not skipped.
                self.consumer.seek(tp, done)
                for later_tp, later in batches[index + 1 :]:
                    self.consumer.seek(later_tp, later[0].offset)
                raise
            finally:
                if done > records[0].offset:
                    self._commit(tp, done)
        return result

    def run_until_caught_up(self, max_seconds: float = 60.0, timeout_ms: int = 500) -> BatchResult:
        """Process batches until this member has partitions and has committed up to their ends (a
        demo's and a test's stopping point; a service loops forever). Bounded by ``max_seconds``:
        joining a group whose old member died waits for that member's session to expire, and a poll
        without partitions can return at once, so a count of polls is no bound."""
        total = BatchResult()
        deadline = time.monotonic() + max_seconds
        while time.monotonic() < deadline:
            batch = self.process_batch(timeout_ms)
            for name in vars(total):
                setattr(total, name, getattr(total, name) + getattr(batch, name))
            assigned = self.consumer.assignment()
            if assigned and self._caught_up(assigned):
                break
        return total

    def _caught_up(self, assigned: set[TopicPartition]) -> bool:
        ends = self.consumer.end_offsets(list(assigned))
        return all((self.consumer.committed(tp) or 0) >= ends[tp] for tp in assigned)

    def close(self) -> None:
        """Leave the group at once (its partitions move to the others now, not after a timeout)."""
        self.consumer.close()

    def _commit(self, tp: TopicPartition, offset: int) -> None:
        self.consumer.commit({tp: OffsetAndMetadata(offset, "", -1)})

    def _process(self, record: ConsumerRecord, result: BatchResult) -> None:
        if record.value is None:
            if record.key is None:
                self._dead_letter(record, "tombstone without a key")
                result.dead_lettered += 1
                return
            self.on_delete(bytes(record.key).decode(errors="replace"))
            result.deleted += 1
            return
        try:
            event = decode_event(record.value)
        except PoisonMessage as error:
            self._dead_letter(record, str(error))
            result.dead_lettered += 1
            return
        attempt = 0
        while True:
            try:
                self.handle(event)
                log.info(
                    "handled %s",
                    event.type,
                    extra={"correlation_id": event.correlation_id, "event_id": str(event.event_id)},
                )
                result.handled += 1
                return
            except PermanentError as error:
                self._dead_letter(record, f"permanent: {error}")
                result.dead_lettered += 1
                return
            except TransientError as error:
                if attempt >= self.retries:
                    self._dead_letter(record, f"transient, {attempt + 1} attempts: {error}")
                    result.dead_lettered += 1
                    return
                self.sleep(self.backoff_s * 2**attempt)
                attempt += 1
                result.retried += 1

    def _dead_letter(self, record: ConsumerRecord, reason: str) -> None:
        """Copy the record to the dead-letter topic, same key/value/headers plus where it came from
        and why; wait for the ack, because the commit that follows forgets the original."""
        log.warning(
            "dead-lettering %s[%d]@%d: %s", record.topic, record.partition, record.offset, reason
        )
        headers = [(k, bytes(v)) for k, v in record.headers or [] if k not in _DLQ_HEADERS]
        headers += [
            (DLQ_TOPIC, record.topic.encode()),
            (DLQ_PARTITION, str(record.partition).encode()),
            (DLQ_OFFSET, str(record.offset).encode()),
            (DLQ_ERROR, reason.encode()),
        ]
        self.producer.send(self.dlq_topic, key=record.key, value=record.value, headers=headers).get(
            timeout=SEND_TIMEOUT_S
        )


def replay_dead_letters(
    consumer: KafkaConsumer, producer: KafkaProducer, timeout_ms: int = 1000
) -> int:
    """Move every dead-lettered record the consumer (subscribed to the DLQ) reads back to the topic
    it came from, then commit: run it once the bug that sent them there is fixed. Returns the count.

    Replayed copies lose the ``dlq.*`` headers; a record without ``dlq.topic`` is not ours and stays.
    """
    moved = 0
    while True:
        batches = consumer.poll(timeout_ms=timeout_ms)
        if not batches:
            return moved
        for tp, records in batches.items():
            futures = []
            for record in records:
                origin = header(record, DLQ_TOPIC)
                if origin is None:
                    continue
                headers = [(k, bytes(v)) for k, v in record.headers or [] if k not in _DLQ_HEADERS]
                futures.append(
                    producer.send(origin, key=record.key, value=record.value, headers=headers)
                )
            for future in futures:
                future.get(timeout=SEND_TIMEOUT_S)
            moved += len(futures)
            consumer.commit({tp: OffsetAndMetadata(records[-1].offset + 1, "", -1)})
