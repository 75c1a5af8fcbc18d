"""Taught in notebooks/05_messaging_kafka.ipynb §3.

Exercise 05.2: a consumer batch that never blocks, never loses, and commits what it processed.

The guide's consumer parses every value with ``JSON.parse(value || '{}')``: a message that is not JSON
throws, kafkajs restarts at the same offset, and the partition is blocked for good; a tombstone
(``value`` None) is handled as ``{}``; offsets are committed automatically, whatever happened.

``process_batch`` polls once (``consumer.poll(timeout_ms=...)``; the consumer is subscribed, with
auto-commit off) and, for each record in order:

* ``value`` None (a tombstone) → ``on_delete(key as str)``;
* a value ``decode_event`` refuses (``PoisonMessage``), or a handler raising ``PermanentError`` →
  a copy to ``dlq_topic`` (same key, value and headers) plus the headers ``dlq.topic``,
  ``dlq.partition``, ``dlq.offset`` (as text) and ``dlq.error`` (the exception's text), acked by the
  broker before going on;
* otherwise → ``handle(event)``.

After each record, commit its offset + 1 for its partition (``consumer.commit({tp:
OffsetAndMetadata(offset + 1, "", -1)})``). Any other exception from the handler is a bug: leave that
record uncommitted, rewind the consumer to it (``consumer.seek``) so the next call reads it again, and
let the exception propagate. Return the number of records processed.
"""

from __future__ import annotations

from collections.abc import Callable

from kafka import KafkaConsumer, KafkaProducer
from kafka.consumer.fetcher import ConsumerRecord
from kafka.structs import OffsetAndMetadata

from reference.messaging.events import Event, PoisonMessage, decode_event  # noqa: F401, RUF100 - for your solution
from reference.messaging.kafka import PermanentError  # noqa: F401, RUF100 - for your solution


def process_batch(
    consumer: KafkaConsumer,
    producer: KafkaProducer,
    dlq_topic: str,
    handle: Callable[[Event], None],
    on_delete: Callable[[str], None],
    timeout_ms: int = 1000,
) -> int:
    """Process one polled batch as described above; return how many records were processed."""
    # TODO: poll; per record: tombstone, poison or permanent → DLQ with its origin, else handle;
    # commit after each record; on any other exception rewind to the failing record and re-raise.
    batches = list(consumer.poll(timeout_ms=timeout_ms).items())
    processed = 0
    for position, (tp, records) in enumerate(batches):
        for record in records:
            try:
                _process(record, producer, dlq_topic, handle, on_delete)
            except Exception:
                consumer.seek(tp, record.offset)
                for later_tp, later_records in batches[position + 1 :]:
                    consumer.seek(later_tp, later_records[0].offset)
                raise
            consumer.commit({tp: OffsetAndMetadata(record.offset + 1, "", -1)})
            processed += 1
    return processed


def _process(
    record: ConsumerRecord,
    producer: KafkaProducer,
    dlq_topic: str,
    handle: Callable[[Event], None],
    on_delete: Callable[[str], None],
) -> None:
    """One record: delete, dead-letter or handle."""
    # TODO: route the record (a helper of your own; delete it if you do not need it).
    if record.value is None:
        on_delete(bytes(record.key or b"").decode())
        return
    try:
        handle(decode_event(record.value))
    except (PoisonMessage, PermanentError) as error:
        headers = [
            *(record.headers or []),
            ("dlq.topic", record.topic.encode()),
            ("dlq.partition", str(record.partition).encode()),
            ("dlq.offset", str(record.offset).encode()),
            ("dlq.error", str(error).encode()),
        ]
        producer.send(dlq_topic, key=record.key, value=record.value, headers=headers).get(
            timeout=30
        )
