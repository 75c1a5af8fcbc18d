"""Kill a server by its PID: ``status`` exits non-zero naming it, and ``up`` restores it with data intact.

Runs mongo, kafka and rabbitmq natively on ports of their own (an isolated state folder), so the shared
servers the rest of the suite uses are never touched. PostgreSQL and Redis get the same treatment in
``test_launcher.py``.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path

import pika
import psutil
import pymongo
import pytest
from kafka import KafkaConsumer, KafkaProducer
from typer.testing import CliRunner

from course.cli import app
from course.services.launcher import Launcher
from reference.config import get_settings

pytestmark = [pytest.mark.xdist_group("launcher"), pytest.mark.slow]


def write_mongo() -> None:
    client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(get_settings().mongodb_url)
    client["kept"]["things"].insert_one({"_id": 1, "value": "still here"})
    client.close()


def read_mongo() -> object:
    client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(get_settings().mongodb_url)
    try:
        document = client["kept"]["things"].find_one({"_id": 1})
        return None if document is None else document["value"]
    finally:
        client.close()


def write_kafka() -> None:
    producer = KafkaProducer(bootstrap_servers=get_settings().kafka_bootstrap_servers, acks="all")
    producer.send("kept", b"still here").get(timeout=30)
    producer.close()


def read_kafka() -> object:
    consumer = KafkaConsumer(
        "kept",
        bootstrap_servers=get_settings().kafka_bootstrap_servers,
        auto_offset_reset="earliest",
        consumer_timeout_ms=15000,
    )
    try:
        return next((message.value.decode() for message in consumer), None)
    finally:
        consumer.close()


def write_rabbitmq() -> None:
    connection = pika.BlockingConnection(pika.URLParameters(get_settings().amqp_url))
    channel = connection.channel()
    channel.confirm_delivery()
    channel.queue_declare("kept", durable=True)
    channel.basic_publish(
        "", "kept", b"still here", pika.BasicProperties(delivery_mode=pika.DeliveryMode.Persistent)
    )
    connection.close()


def read_rabbitmq() -> object:
    connection = pika.BlockingConnection(pika.URLParameters(get_settings().amqp_url))
    try:
        _method, _properties, body = connection.channel().basic_get("kept", auto_ack=True)
        return None if body is None else body.decode()
    finally:
        connection.close()


CASES: dict[str, tuple[Callable[[], None], Callable[[], object]]] = {
    "mongo": (write_mongo, read_mongo),
    "kafka": (write_kafka, read_kafka),
    "rabbitmq": (write_rabbitmq, read_rabbitmq),
}


@pytest.mark.parametrize("name", list(CASES))
def test_kill_then_up_restores_the_server_with_its_data(isolated_jvm_env: Path, name: str) -> None:
    write, read = CASES[name]
    launcher = Launcher(progress=lambda _line: None)
    (started,) = launcher.up([name])
    assert started.healthy, started.detail
    assert started.backend == "native"
    write()

    assert started.pid is not None
    os.kill(started.pid, signal.SIGTERM)
    psutil.Process(started.pid).wait(timeout=60)

    status = CliRunner().invoke(app, ["services", "status", name])
    assert status.exit_code == 1
    assert f"unhealthy: {name}" in status.output

    (restored,) = launcher.up([name])
    assert restored.healthy, restored.detail
    assert restored.pid != started.pid
    assert read() == "still here"
