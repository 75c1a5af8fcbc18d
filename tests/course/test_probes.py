"""Each probe does a real round trip to its live server and says what answered; a closed port raises.

The servers are every registry entry at ``reference.config.get_settings()`` (docker compose or the
native launcher); ``ensure_server`` starts a missing one natively unless ``COURSE_AUTOSTART=0`` (a
heavy one, Keycloak, even then: ``./dev test`` leaves it to the tests that need it).
"""

from __future__ import annotations

import re

import pytest

from course.harness.loader import catalogue
from course.testing.fixtures import ensure_server
from reference.config import SERVER_VARIABLES, Settings, get_settings
from reference.setup.ports import free_port
from reference.setup.probes import (
    is_genuine,
    kafka_version,
    mongo_flavour,
    mongo_is_genuine,
    probe_mongo,
    probe_redis,
)
from reference.setup.servers import REGISTRY, SERVERS, needed_by, probe, server

EXPECTED = {
    "postgres": ("PostgreSQL", r"15\.\d+"),
    "mongo": (r"MongoDB|compatible server \(mongo-java-server [\d.]+\)", r"\d+\.\d+\.\d+"),
    "redis": ("Redis", r"7\.0\.\d+"),
    "kafka": ("Apache Kafka", r"4\.1 \(metadata\.version 4\.1-IV\d\)"),
    "rabbitmq": ("RabbitMQ", r"3\.10\.\d+"),
    "keycloak": ("Keycloak", r"26\.7\.3 \(realm course loaded\)"),
    "nginx": ("nginx", r"1\.22\.\d+"),
    "etcd": ("etcd", r"3\.4\.\d+"),
    "envoy": ("Envoy", r"1\.40\.\d+"),
    "prometheus": ("Prometheus", r"2\.42\.\d+(\+ds)?"),
    "alertmanager": ("Alertmanager", r"0\.25\.\d+"),
    "opensearch": ("OpenSearch", r"2\.19\.\d+"),
}


def closed_port() -> int:
    """A port nothing listens on: bound once to find it free, then released."""
    return free_port()


def test_every_registry_entry_is_probed_and_configured() -> None:
    assert list(EXPECTED) == list(SERVERS) == list(SERVER_VARIABLES)
    assert len({entry.variable for entry in REGISTRY}) == len(REGISTRY)


def test_an_unknown_server_is_a_value_error_naming_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="valid names are: postgres, mongo"):
        server("mysql")


def test_chapters_name_their_servers() -> None:
    assert needed_by(["00"]) == ["postgres", "mongo", "redis", "kafka", "rabbitmq"]
    assert needed_by(["03"]) == ["redis", "keycloak"]
    assert needed_by(["05"]) == ["postgres", "kafka", "rabbitmq"]
    assert "nginx" in needed_by(["06"])
    assert needed_by(["99"]) == []


def test_every_exercise_s_servers_are_started_for_its_chapter() -> None:
    """`course services up --chapter NN` starts at least what chapter NN's exercises need."""
    for exercise in catalogue().values():
        missing = set(exercise.servers) - set(needed_by([exercise.id[:2]]))
        assert not missing, f"{exercise.id} needs {sorted(missing)}: add its chapter to them"


@pytest.mark.parametrize("name", list(SERVERS))
def test_probe_reports_flavour_version_and_round_trip(name: str) -> None:
    ensure_server(name)
    result = probe(name, get_settings().url_for(name), 5.0)
    flavour, version = EXPECTED[name]
    assert re.fullmatch(flavour, result.flavour), result
    assert re.fullmatch(version, result.version), result
    assert 0 < result.rtt_ms < 5000


@pytest.mark.parametrize("name", list(SERVERS))
def test_probe_of_a_closed_port_raises(name: str) -> None:
    entry = server(name)
    port = Settings({entry.variable: entry.default}).endpoint(entry.variable).port
    url = entry.default.replace(f":{port}", f":{closed_port()}", 1)
    assert url != entry.default
    with pytest.raises(Exception):  # noqa: B017, PT011 - each client raises its own error type
        probe(name, url, 1.0)


def test_probe_with_wrong_credentials_raises() -> None:
    ensure_server("redis")
    url = get_settings().redis_url.replace(":course@", ":not-the-password@")
    with pytest.raises(Exception, match=r"(?i)auth|password|WRONGPASS"):
        probe_redis(url, 2.0)


def test_mongo_genuineness_matches_the_flavour() -> None:
    ensure_server("mongo")
    url = get_settings().mongodb_url
    assert mongo_is_genuine(url) == (probe_mongo(url).flavour == "MongoDB")


def test_one_rule_for_genuine_mongodb(mongo_db: object) -> None:
    """The reference's check and the probe agree on the live server, and on replies that used to
    split them: a reply without gitVersion is not genuine MongoDB for either."""
    from reference.databases.mongo import is_genuine_mongodb

    assert is_genuine_mongodb(mongo_db) == mongo_is_genuine(get_settings().mongodb_url)  # type: ignore[arg-type]
    assert not is_genuine({"version": "5.0.0"})
    assert not is_genuine({"version": "4.4.0", "gitVersion": "x", "compatibleServer": "y"})
    assert is_genuine({"version": "7.0.16", "gitVersion": "18b9"})


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
