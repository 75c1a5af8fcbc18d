"""Per-notebook Kafka topics and RabbitMQ vhosts, so the chapter 05 notebooks run twice and in
parallel (notebooks/05_messaging_*.ipynb). Tests use the per-test fixtures in
``course.testing.fixtures`` instead.

Kafka deletes topics asynchronously, so a topic cannot be recreated under the same name right away:
each run makes ``<sandbox>.<run>.<name>`` and first deletes whatever earlier runs of the same
notebook left. A RabbitMQ vhost is deleted synchronously and is simply made afresh.
"""

from __future__ import annotations

import uuid
from urllib.parse import quote, urlsplit, urlunsplit

import httpx
from kafka.admin import KafkaAdminClient, NewTopic

from reference.config import get_settings


def fresh_topics(sandbox: str, names: dict[str, int]) -> dict[str, str]:
    """Delete ``sandbox.*`` topics, create one per ``names`` entry (name → partitions); return name →
    topic."""
    admin = KafkaAdminClient(bootstrap_servers=get_settings().kafka_bootstrap_servers)
    try:
        stale = [t for t in admin.list_topics() if t.startswith(sandbox + ".")]
        if stale:
            admin.delete_topics(stale)
        run = uuid.uuid4().hex[:8]
        topics = {name: f"{sandbox}.{run}.{name}" for name in names}
        admin.create_topics(
            [NewTopic(topics[n], num_partitions=p, replication_factor=1) for n, p in names.items()]
        )
        return topics
    finally:
        admin.close()


def management_client() -> httpx.Client:
    """RabbitMQ's management HTTP API, credentials taken out of ``RABBITMQ_MANAGEMENT_URL``."""
    parts = urlsplit(get_settings().rabbitmq_management_url)
    return httpx.Client(
        base_url=f"{parts.scheme}://{parts.hostname}:{parts.port or 15672}",
        auth=(parts.username or "", parts.password or ""),
        timeout=10,
    )


def fresh_vhost(name: str) -> str:
    """Delete and recreate vhost ``name`` (the course user may use it); return its AMQP URL."""
    amqp = urlsplit(get_settings().amqp_url)
    with management_client() as api:
        api.delete(f"/api/vhosts/{quote(name, safe='')}")
        api.put(f"/api/vhosts/{quote(name, safe='')}").raise_for_status()
        api.put(
            f"/api/permissions/{quote(name, safe='')}/{amqp.username}",
            json={"configure": ".*", "write": ".*", "read": ".*"},
        ).raise_for_status()
    return urlunsplit(amqp._replace(path="/" + quote(name, safe="")))
