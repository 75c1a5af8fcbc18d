"""One round trip per server: write something, read it back, and time the whole exchange.

Pattern: a smoke test that proves the full path (client library → network → server → back) works, not
just that a port is open. Taught in ``notebooks/00_setup.ipynb``. Every function leaves nothing behind
(a temporary table, a deleted document, an expiring key, a deleted topic, an auto-deleted queue) and
returns a :class:`RoundTrip` whose ``rtt_ms`` covers the write and the read, connection setup excluded.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from kafka import TopicPartition
from kafka.admin import NewTopic

from reference.setup import connect


@dataclass(frozen=True)
class RoundTrip:
    """What one write-then-read exchange with a server showed."""

    server: str
    operation: str  # "insert/select", "set/get" …
    sent: str
    received: str
    rtt_ms: float

    @property
    def ok(self) -> bool:
        """The value read back is the value written."""
        return self.sent == self.received


def _token() -> str:
    return uuid.uuid4().hex[:12]


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 3)


def postgres(url: str | None = None) -> RoundTrip:
    """INSERT a row into a temporary table, SELECT it back."""
    sent = _token()
    with connect.postgres(url) as conn:
        conn.execute("CREATE TEMPORARY TABLE tour (id serial PRIMARY KEY, payload text NOT NULL)")
        start = time.perf_counter()
        row = conn.execute(
            "INSERT INTO tour (payload) VALUES (%s) RETURNING id", (sent,)
        ).fetchone()
        assert row is not None
        back = conn.execute("SELECT payload FROM tour WHERE id = %s", (row[0],)).fetchone()
        rtt = _ms(start)
    return RoundTrip("postgres", "insert/select", sent, str(back[0]) if back else "", rtt)


def mongo(url: str | None = None, database: str = "course_tour") -> RoundTrip:
    """insert_one a document into ``database.tour``, find_one it back, then delete it."""
    sent = _token()
    client = connect.mongo(url)
    try:
        collection = client[database]["tour"]
        client.admin.command("ping")  # connect before the clock starts
        start = time.perf_counter()
        inserted = collection.insert_one({"payload": sent})
        found: dict[str, Any] | None = collection.find_one({"_id": inserted.inserted_id})
        rtt = _ms(start)
        collection.delete_one({"_id": inserted.inserted_id})
    finally:
        client.close()
    return RoundTrip("mongo", "insert/find", sent, str(found["payload"]) if found else "", rtt)


def redis(url: str | None = None, prefix: str = "course_tour:") -> RoundTrip:
    """SET a key (expiring after a minute) under ``prefix``, GET it back."""
    sent = _token()
    client = connect.redis_client(url)
    try:
        client.ping()
        key = f"{prefix}{sent}"
        start = time.perf_counter()
        client.set(key, sent, ex=60)
        back = client.get(key)
        rtt = _ms(start)
        client.delete(key)
    finally:
        client.close()
    return RoundTrip("redis", "set/get", sent, str(back or ""), rtt)


def kafka(bootstrap: str | None = None, topic_prefix: str = "course_tour") -> RoundTrip:
    """Produce one record to a new topic of this run, consume it back, delete the topic."""
    sent = _token()
    topic = f"{topic_prefix}_{sent}"
    admin = connect.kafka_admin(bootstrap)
    admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
    producer = connect.kafka_producer(bootstrap)
    consumer = connect.kafka_consumer(bootstrap)
    received = ""
    try:
        partition = TopicPartition(topic, 0)
        consumer.assign([partition])
        consumer.seek_to_beginning(partition)
        producer.partitions_for(topic)  # fetch the topic's metadata before the clock starts
        start = time.perf_counter()
        metadata = producer.send(topic, sent.encode()).get(timeout=10)
        consumer.seek(partition, metadata.offset)
        deadline = time.monotonic() + 10
        while not received and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=100).values():
                received = next((r.value.decode() for r in records if r.value), received)
        rtt = _ms(start)
    finally:
        producer.close()
        consumer.close()
        admin.delete_topics([topic])
        admin.close()
    return RoundTrip("kafka", "produce/consume", sent, received, rtt)


def rabbitmq(url: str | None = None) -> RoundTrip:
    """Publish to an exclusive, auto-deleted queue and consume the message back."""
    sent = _token()
    connection = connect.rabbitmq(url)
    received = ""
    try:
        channel = connection.channel()
        queue = channel.queue_declare(queue="", exclusive=True, auto_delete=True).method.queue
        start = time.perf_counter()
        channel.basic_publish(exchange="", routing_key=queue, body=sent.encode())
        deadline = time.monotonic() + 10
        while not received and time.monotonic() < deadline:
            _method, _properties, body = channel.basic_get(queue, auto_ack=True)
            received = body.decode() if body else ""
        rtt = _ms(start)
    finally:
        connection.close()
    return RoundTrip("rabbitmq", "publish/consume", sent, received, rtt)


ROUND_TRIPS = {
    "postgres": postgres,
    "mongo": mongo,
    "redis": redis,
    "kafka": kafka,
    "rabbitmq": rabbitmq,
}
"""Round trip by server name, in the order servers are listed everywhere."""
