"""docker-compose.yml is a valid Compose file and describes the same servers as reference/config.py.

The schema is the Compose Specification's own (``course/services/compose-spec.json``, Apache-2.0,
vendored from the compose-spec project as shipped in the check-jsonschema package). No Docker engine is
needed: these tests read files only, so they guard the compose path on machines that run natively.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import jsonschema
import pytest
import yaml

from reference.config import DEFAULTS, REPO_ROOT, Settings
from reference.setup.servers import REGISTRY

COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
SCHEMA_FILE = REPO_ROOT / "course" / "services" / "compose-spec.json"


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA_FILE.read_text())
    return loaded


@pytest.fixture
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
    return loaded


def validation_errors(document: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    validator_class = jsonschema.validators.validator_for(schema)
    validator = validator_class(schema)
    return [
        f"{'/'.join(str(p) for p in error.absolute_path)}: {error.message}"
        for error in validator.iter_errors(document)
    ]


def host_ports(service: dict[str, Any]) -> list[int]:
    """Published host ports of ``"127.0.0.1:HOST:CONTAINER"`` entries, in order."""
    ports = []
    for entry in service.get("ports", []):
        ip, host, _container = str(entry).split(":")
        assert ip == "127.0.0.1", f"{entry!r} must bind the host port on 127.0.0.1 only"
        ports.append(int(host))
    return ports


def url_port(url: str) -> int:
    if "://" not in url:  # a Kafka bootstrap list: host:port[,host:port]
        url = "kafka://" + url.split(",")[0]
    port = urlsplit(url).port
    assert port is not None, url
    return port


def test_schema_is_a_valid_json_schema(schema: dict[str, Any]) -> None:
    jsonschema.validators.validator_for(schema).check_schema(schema)


def test_compose_file_validates_against_the_compose_spec(
    compose: dict[str, Any], schema: dict[str, Any]
) -> None:
    assert validation_errors(compose, schema) == []


@pytest.mark.parametrize(
    ("mutation", "expected"),
    [
        (lambda c: c["services"]["redis"].__setitem__("ports", "16379:6379"), "ports"),
        (lambda c: c["services"]["kafka"].__setitem__("healthcheck", {"tests": ["CMD"]}), "tests"),
        (lambda c: c["services"].__setitem__("bad name!", {"image": "x"}), "bad name!"),
        (lambda c: c.__setitem__("servicez", {}), "servicez"),
    ],
    ids=["ports-not-a-list", "misspelt-healthcheck-key", "invalid-service-name", "unknown-top-key"],
)
def test_a_broken_compose_file_fails_validation(
    compose: dict[str, Any], schema: dict[str, Any], mutation: Any, expected: str
) -> None:
    """The schema check can fail: each mutation of the real file is rejected, naming the culprit."""
    broken = copy.deepcopy(compose)
    mutation(broken)
    errors = validation_errors(broken, schema)
    assert errors, "the mutated compose file should not validate"
    assert any(expected in error for error in errors), errors


def test_one_service_per_registry_entry(compose: dict[str, Any]) -> None:
    assert list(compose["services"]) == [entry.compose_service for entry in REGISTRY]


def test_every_config_variable_is_documented_with_its_default(compose: dict[str, Any]) -> None:
    assert compose["x-course-env"] == DEFAULTS


def test_each_service_names_the_variable_that_reaches_it(compose: dict[str, Any]) -> None:
    for entry in REGISTRY:
        assert compose["services"][entry.compose_service]["x-course-variable"] == entry.variable


@pytest.mark.parametrize("entry", REGISTRY, ids=[entry.name for entry in REGISTRY])
def test_client_host_port_matches_the_default_url(compose: dict[str, Any], entry: Any) -> None:
    service = compose["services"][entry.compose_service]
    assert host_ports(service)[0] == url_port(entry.default)


@pytest.mark.parametrize("entry", REGISTRY, ids=[entry.name for entry in REGISTRY])
def test_every_extra_setting_reaches_the_service(compose: dict[str, Any], entry: Any) -> None:
    """A URL setting (or a Kafka-style ``host:port`` list) is one of the service's host ports; any other setting (a password, a secret)
    is passed into the container with the same default, so both backends serve the same values."""
    service = compose["services"][entry.compose_service]
    for name, default in entry.extra.items():
        if "://" in default or re.fullmatch(r"[\w.-]+:\d+(,[\w.-]+:\d+)*", default):
            assert Settings({name: default}).endpoint(name).port in host_ports(service), name
        else:
            assert service["environment"][name] == f"${{{name}:-{default}}}", name


def test_rabbitmq_management_port_matches(compose: dict[str, Any]) -> None:
    rabbitmq = compose["services"]["rabbitmq"]
    management = [p for p in rabbitmq["ports"] if str(p).endswith(":15672")]
    assert len(management) == 1
    assert int(str(management[0]).split(":")[1]) == url_port(DEFAULTS["RABBITMQ_MANAGEMENT_URL"])


def test_every_service_has_a_healthcheck_a_pinned_image_and_a_named_volume(
    compose: dict[str, Any],
) -> None:
    for name, service in compose["services"].items():
        assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
        image = service["image"]
        # An exact release ("15.14", "3.10.8-management"), never "latest" or a bare major version.
        assert re.fullmatch(r"[\w./-]+:v?\d+\.\d+(\.\d+)?(-[a-z]+)?", image), (
            f"{name}: pin an exact tag, not {image!r}"
        )
        # Bind mounts of the repository's files (the Keycloak realm) are not where data lives.
        sources = [str(v).split(":")[0] for v in service.get("volumes", [])]
        volumes = [source for source in sources if not source.startswith("./")]
        assert volumes, f"{name} keeps no data in a volume"
        assert all(v in compose["volumes"] for v in volumes), f"{name}: undeclared volume"


def test_postgres_credentials_match(compose: dict[str, Any]) -> None:
    url = urlsplit(DEFAULTS["DATABASE_URL"])
    env = compose["services"]["postgres"]["environment"]
    assert (env["POSTGRES_USER"], env["POSTGRES_PASSWORD"]) == (url.username, url.password)
    assert env["POSTGRES_DB"] == url.path.lstrip("/")


def test_redis_password_matches(compose: dict[str, Any]) -> None:
    password = urlsplit(DEFAULTS["REDIS_URL"]).password
    command = compose["services"]["redis"]["command"]
    assert command[command.index("--requirepass") + 1] == password


def test_rabbitmq_credentials_match(compose: dict[str, Any]) -> None:
    env = compose["services"]["rabbitmq"]["environment"]
    for variable in ("AMQP_URL", "RABBITMQ_MANAGEMENT_URL"):
        url = urlsplit(DEFAULTS[variable])
        assert (env["RABBITMQ_DEFAULT_USER"], env["RABBITMQ_DEFAULT_PASS"]) == (
            unquote(url.username or ""),
            unquote(url.password or ""),
        )


def test_mongo_is_a_replica_set(compose: dict[str, Any]) -> None:
    """Change streams and transactions need a replica set; the URL connects directly to it."""
    mongo = compose["services"]["mongo"]
    assert mongo["command"][mongo["command"].index("--replSet") + 1] == "rs0"
    assert "rs.initiate" in " ".join(mongo["healthcheck"]["test"])
    assert "directConnection=true" in DEFAULTS["MONGODB_URL"]


def test_kafka_listens_and_authorizes_as_the_native_broker(compose: dict[str, Any]) -> None:
    """The compose broker's listener, SASL and ACL settings are the native broker's, key for key
    (the image maps ``KAFKA_A_B`` to ``a.b`` and ``___`` to ``-``), and it advertises the addresses
    the settings name."""
    from course.services.native.kafka import KafkaServer, listener_settings

    env = compose["services"]["kafka"]["environment"]
    native = listener_settings(KafkaServer(Settings(DEFAULTS)).listeners)
    advertised = native.pop("advertised.listeners")
    native.pop("controller.quorum.bootstrap.servers")  # compose names the voters instead
    native["listeners"] = native["listeners"].replace(
        "PLAINTEXT://127.0.0.1:", "PLAINTEXT://0.0.0.0:"
    )
    for listener in ("GRADING", "INTERNAL"):
        native["listeners"] = native["listeners"].replace(
            f"{listener}://127.0.0.1:", f"{listener}://0.0.0.0:"
        )
    for key, value in native.items():
        variable = "KAFKA_" + key.replace("-", "___").replace(".", "_").upper()
        assert str(env[variable]) == value, key
    assert env["KAFKA_ADVERTISED_LISTENERS"] == advertised
    assert advertised.startswith(f"PLAINTEXT://{DEFAULTS['KAFKA_BOOTSTRAP_SERVERS']},")
    assert compose["services"]["kafka"]["image"] == "apache/kafka:4.1.1"


def test_vendored_schema_is_the_compose_spec() -> None:
    schema = json.loads(SCHEMA_FILE.read_text())
    assert schema["title"] == "Compose Specification"
    assert Path(str(SCHEMA_FILE).replace(".json", ".LICENSE")).exists()
