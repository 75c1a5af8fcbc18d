"""Each probe does a real round trip to its live server and says what answered; a closed port raises.

The servers are the five at ``reference.config.get_settings()`` (docker compose or the native launcher);
``ensure_server`` starts a missing one natively unless ``COURSE_AUTOSTART=0``.
"""

from __future__ import annotations

import re
import socket

import pytest

from course.services.probes import (
    PROBES,
    kafka_version,
    mongo_flavour,
    mongo_is_genuine,
    probe_kafka,
    probe_mongo,
    probe_postgres,
    probe_rabbitmq,
    probe_redis,
)
from course.testing.fixtures import ensure_server
from reference.config import SERVER_VARIABLES, get_settings

EXPECTED = {
    "postgres": ("PostgreSQL", r"15\.\d+"),
    "mongo": (r"MongoDB|compatible server \(mongo-java-server [\d.]+\)", r"\d+\.\d+\.\d+"),
    "redis": ("Redis", r"7\.0\.\d+"),
    "kafka": ("Apache Kafka", r"4\.1 \(metadata\.version 4\.1-IV\d\)"),
    "rabbitmq": ("RabbitMQ", r"3\.10\.\d+"),
}


def closed_port() -> int:
    """A port nothing listens on: bound once to find it free, then released."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_one_probe_per_server() -> None:
    assert list(PROBES) == list(SERVER_VARIABLES)


@pytest.mark.parametrize("server", list(SERVER_VARIABLES))
def test_probe_reports_flavour_version_and_round_trip(server: str) -> None:
    ensure_server(server)
    result = PROBES[server](get_settings().url_for(server), 5.0)
    flavour, version = EXPECTED[server]
    assert re.fullmatch(flavour, result.flavour), result
    assert re.fullmatch(version, result.version), result
    assert 0 < result.rtt_ms < 5000


@pytest.mark.parametrize(
    ("probe", "url"),
    [
        (probe_postgres, "postgresql://course:course@127.0.0.1:{port}/course"),
        (probe_mongo, "mongodb://127.0.0.1:{port}/?directConnection=true"),
        (probe_redis, "redis://:course@127.0.0.1:{port}/0"),
        (probe_kafka, "127.0.0.1:{port}"),
        (probe_rabbitmq, "amqp://course:course@127.0.0.1:{port}/%2F"),
    ],
    ids=list(SERVER_VARIABLES),
)
def test_probe_of_a_closed_port_raises(probe: object, url: str) -> None:
    assert callable(probe)
    with pytest.raises(Exception):  # noqa: B017, PT011 - each client raises its own error type
        probe(url.format(port=closed_port()), 1.0)


def test_probe_with_wrong_credentials_raises() -> None:
    ensure_server("redis")
    url = get_settings().redis_url.replace(":course@", ":not-the-password@")
    with pytest.raises(Exception, match=r"(?i)auth|password|WRONGPASS"):
        probe_redis(url, 2.0)


def test_mongo_genuineness_matches_the_flavour() -> None:
    ensure_server("mongo")
    url = get_settings().mongodb_url
    assert mongo_is_genuine(url) == (probe_mongo(url).flavour == "MongoDB")


@pytest.mark.parametrize(
    ("build_info", "flavour"),
    [
        ({"version": "7.0.16", "gitVersion": "18b9…", "modules": []}, "MongoDB"),
        (
            {"version": "4.4.0", "compatibleServer": "mongo-java-server 1.47.0"},
            "compatible server (mongo-java-server 1.47.0)",
        ),
        ({"version": "5.0.0"}, "compatible server (unknown implementation)"),
    ],
    ids=["genuine", "ours", "other"],
)
def test_mongo_flavour_from_build_info(build_info: dict[str, object], flavour: str) -> None:
    assert mongo_flavour(build_info) == flavour


def test_kafka_version_from_metadata_version_and_fallback() -> None:
    features = {"metadata.version": {"supported": (7, 25), "finalized": (25, 25)}}
    assert kafka_version(features, {}) == "4.0 (metadata.version 4.0-IV3)"
    assert kafka_version({"metadata.version": {"supported": (7, 99)}}, {}).startswith("newer")
    # No metadata.version (a ZooKeeper-era broker): kafka-python infers from request versions.
    assert kafka_version({}, {1: (0, 17)}) == "3.9"
