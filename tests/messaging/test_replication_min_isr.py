"""Replication, shown (second half): three brokers and a dedicated controller
(reference/messaging/cluster.py), a topic with replication factor 3 and min.insync.replicas=2, two
of its brokers SIGKILLed:

- an ``acks=all`` send fails with ``NotEnoughReplicasError`` raised to the caller — the broker
  refuses to take a write it could only keep one copy of, nothing is silently lost;
- an ``acks=1`` send beside it "succeeds": acknowledged at an offset, its only copy on the last
  broker. It is not committed: with the in-sync set below min.insync.replicas the high watermark
  does not advance (Kafka 4's eligible-leader-replicas rule, KIP-966), so no consumer can read it,
  and if that broker dies or a stale replica is made leader the acknowledged message is truncated
  away. With every broker up, acks=1 risks the same loss in a race — the leader killed between its
  ack and its followers' fetch — which is not deterministic, so it is stated here, not asserted.

A module of its own (its own cluster) so it does not depend on test_replication.py's kill."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kafka import KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import NotEnoughReplicasError

from reference.messaging.cluster import BROKERS, ThreeBrokerCluster
from reference.messaging.kafka import read_topic

TOPIC = "guarded"


@pytest.fixture(scope="module")
def cluster() -> Iterator[ThreeBrokerCluster]:
    with ThreeBrokerCluster() as c:
        yield c


def _producer(cluster: ThreeBrokerCluster, acks: int | str) -> KafkaProducer:
    # No retries: the broker's answer reaches the caller as it is. With retries the acks=all send
    # would retry NotEnoughReplicas until delivery.timeout.ms and then fail — the same verdict, later.
    return KafkaProducer(
        bootstrap_servers=cluster.bootstrap, acks=acks, retries=0, enable_idempotence=False
    )


def test_two_brokers_down_acks_all_refuses_acks_1_accepts(cluster: ThreeBrokerCluster) -> None:
    admin = KafkaAdminClient(bootstrap_servers=cluster.bootstrap)
    admin.create_topics([NewTopic(TOPIC, 1, 3, topic_configs={"min.insync.replicas": "2"})])
    admin.close()
    safe = _producer(cluster, "all")
    safe.send(TOPIC, b"before").get(timeout=60)
    safe.close()

    survivor = cluster.leader(TOPIC)
    for node in BROKERS:
        if node != survivor:
            cluster.kill(node)
    cluster.wait_for_partition(TOPIC, leader=survivor, isr={survivor})

    safe = _producer(cluster, "all")
    with pytest.raises(NotEnoughReplicasError):
        safe.send(TOPIC, b"refused").get(timeout=60)
    safe.close()

    risky = _producer(cluster, 1)
    acked = risky.send(TOPIC, b"acked-once").get(timeout=60)
    risky.close()
    # Acknowledged at offset 1 (the refused send was never appended), one copy, and invisible:
    # consumers read up to the high watermark, which stays at 1 while the ISR is the survivor alone.
    assert acked.offset == 1
    cluster.wait_for_partition(TOPIC, leader=survivor, isr={survivor})
    assert [r.value for r in read_topic(cluster.bootstrap, TOPIC)] == [b"before"]
