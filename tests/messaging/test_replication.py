"""Replication, shown: three brokers, a topic with replication factor 3 and min.insync.replicas=2;
the partition leader SIGKILLed in the middle of 10,000 sends with acks=all → every acknowledged
message is read back from the two survivors (reference/messaging/cluster.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kafka import KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import KafkaError

from reference.messaging.cluster import ThreeBrokerCluster
from reference.messaging.kafka import read_topic


@pytest.fixture(scope="module")
def cluster() -> Iterator[ThreeBrokerCluster]:
    with ThreeBrokerCluster() as c:
        yield c


def test_every_acknowledged_send_survives_the_leaders_death(cluster: ThreeBrokerCluster) -> None:
    admin = KafkaAdminClient(bootstrap_servers=cluster.bootstrap)
    admin.create_topics([NewTopic("replicated", 1, 3, topic_configs={"min.insync.replicas": "2"})])
    admin.close()
    leader = cluster.leader("replicated")
    producer = KafkaProducer(
        bootstrap_servers=cluster.bootstrap, acks="all", enable_idempotence=True, linger_ms=5
    )
    futures = []
    for seq in range(10_000):
        futures.append((seq, producer.send("replicated", str(seq).encode())))
        if seq == 3_000:
            cluster.kill(leader)
    acked, failed = set(), 0
    for seq, future in futures:
        try:
            future.get(timeout=60)
            acked.add(seq)
        except KafkaError:
            failed += 1
    producer.close()
    read_back = {int(r.value) for r in read_topic(cluster.bootstrap, "replicated")}
    assert len(acked) > 3_000  # the stream went on after the kill
    assert acked <= read_back, f"{len(acked - read_back)} acknowledged messages lost"
