"""Decoy for 05.2: the dead-letter copy without dlq.* headers — nobody can tell where it came from or why. Caught by test_ok_poison_tombstone_ok."""

from __future__ import annotations

from collections.abc import Callable

from kafka import KafkaConsumer, KafkaProducer
from kafka.consumer.fetcher import ConsumerRecord
from kafka.structs import OffsetAndMetadata

from reference.messaging.events import Event, PoisonMessage, decode_event
from reference.messaging.kafka import PermanentError


def process_batch(
    consumer: KafkaConsumer,
    producer: KafkaProducer,
    dlq_topic: str,
    handle: Callable[[Event], None],
    on_delete: Callable[[str], None],
    timeout_ms: int = 1000,
) -> int:
    """Process one polled batch as described above; return how many records were processed."""
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
    if record.value is None:
        on_delete(bytes(record.key or b"").decode())
        return
    try:
        handle(decode_event(record.value))
    except (PoisonMessage, PermanentError):
        headers = list(record.headers or [])
        producer.send(dlq_topic, key=record.key, value=record.value, headers=headers).get(
            timeout=30
        )
