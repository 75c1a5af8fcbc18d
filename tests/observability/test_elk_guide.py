"""The guide's docker-compose.elk.yml is a valid Compose file that would start, and still: nothing
ships a log into it, Kibana cannot log in to Elasticsearch 8, two images are ``latest``, nothing is
persisted, nothing alerts, every port is open to the network and Prometheus's config file is
missing. Each defect is read from the file itself (no Docker engine and no Elasticsearch here), and
beside it the course's own docker-compose.yml services that fix it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from guide.observability.elk import (
    ELK_COMPOSE,
    alerting_gaps,
    credential_gaps,
    defects,
    image,
    load,
    log_shippers,
    missing_bind_sources,
    open_ports,
    security_disabled,
    shipping_gaps,
    unpersisted,
    unpinned_images,
)
from reference.config import REPO_ROOT

GUIDE_SERVICES = ["elasticsearch", "kibana", "prometheus", "grafana"]


@pytest.fixture(scope="module")
def guide() -> dict[str, Any]:
    return load()


def test_the_file_is_the_guide_s_and_valid_compose(guide: dict[str, Any]) -> None:
    """Not a strawman: the file is the guide's code block verbatim, and Compose would accept it."""
    seed = REPO_ROOT.parent / "shared" / "seed" / "backend-skill-guide.md"
    if seed.exists():  # the seed sits beside the checkout where the course is written
        assert ELK_COMPOSE.read_text() in seed.read_text()
    schema = json.loads((REPO_ROOT / "course" / "services" / "compose-spec.json").read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    assert [error.message for error in validator.iter_errors(guide)] == []
    assert list(guide["services"]) == GUIDE_SERVICES


def test_image_names_and_tags_are_read_like_docker_reads_them() -> None:
    assert image({"image": "docker.elastic.co/kibana/kibana:8.11.0"}) == ("kibana", "8.11.0")
    assert image({"image": "prom/prometheus"}) == ("prometheus", None)
    assert image({"image": "registry:5000/grafana/grafana"}) == ("grafana", None)
    assert image({"image": "grafana/grafana:10.2.3@sha256:abc"}) == ("grafana", "10.2.3")


def test_nothing_ships_logs(guide: dict[str, Any]) -> None:
    """No Logstash/Beats service, no application container, no logging driver: nothing writes
    into Elasticsearch, so Kibana has nothing to show."""
    assert log_shippers(guide) == []
    assert shipping_gaps(guide) != []
    assert not any("logging" in service for service in guide["services"].values())
    # The checker is not blind: a Filebeat service, or a container logging through GELF, ships.
    shipped = yaml.safe_load(ELK_COMPOSE.read_text())
    shipped["services"]["filebeat"] = {"image": "docker.elastic.co/beats/filebeat:8.11.0"}
    assert log_shippers(shipped) == ["filebeat"]
    assert shipping_gaps(shipped) == []
    shipped = yaml.safe_load(ELK_COMPOSE.read_text())
    shipped["services"]["app"] = {"image": "app:1", "logging": {"driver": "gelf"}}
    assert log_shippers(shipped) == ["app"]


def test_elasticsearch_8_security_leaves_kibana_without_credentials(guide: dict[str, Any]) -> None:
    assert credential_gaps(guide) == [
        "elasticsearch: security on (8.x default) and no ELASTIC_PASSWORD set",
        "kibana: depends on elasticsearch but has no credentials for it",
    ]
    # Turning security off trades the login failure for an open database, unless it is loopback-only.
    fixed = yaml.safe_load(ELK_COMPOSE.read_text())
    fixed["services"]["elasticsearch"]["environment"].append("xpack.security.enabled=false")
    assert credential_gaps(fixed) == ["elasticsearch: security off on a public port (9200:9200)"]
    fixed["services"]["elasticsearch"]["ports"] = ["127.0.0.1:9200:9200"]
    assert credential_gaps(fixed) == []
    # Or keep it on: a password for the cluster and a service-account token for Kibana.
    fixed = yaml.safe_load(ELK_COMPOSE.read_text())
    fixed["services"]["elasticsearch"]["environment"].append("ELASTIC_PASSWORD=x")
    fixed["services"]["kibana"]["environment"] = {"ELASTICSEARCH_SERVICEACCOUNTTOKEN": "t"}
    assert credential_gaps(fixed) == []
    # Elasticsearch 7 had security off by default: the same open-port rule.
    old = {"services": {"es": {"image": "elasticsearch:7.17.0", "ports": ["9200:9200"]}}}
    assert credential_gaps(old) == ["es: security off on a public port (9200:9200)"]


def test_images_are_unpinned_and_nothing_is_persisted(guide: dict[str, Any]) -> None:
    assert unpinned_images(guide) == ["prometheus", "grafana"]
    assert unpersisted(guide) == ["elasticsearch", "prometheus", "grafana"]  # the config is no data


def test_nothing_alerts(guide: dict[str, Any]) -> None:
    assert alerting_gaps(guide) == [
        "no Alertmanager service: a firing alert reaches no one",
        "prometheus: no rule files mounted, so no alert can fire",
    ]


def test_every_port_is_open_and_prometheus_s_config_is_missing(guide: dict[str, Any]) -> None:
    assert open_ports(guide) == [
        "elasticsearch: 9200:9200",
        "kibana: 5601:5601",
        "prometheus: 9090:9090",
        "grafana: 3000:3000",
    ]
    assert missing_bind_sources(guide, ELK_COMPOSE.parent) == [
        "prometheus: ./prometheus/prometheus.yml"
    ]
    assert missing_bind_sources(guide, Path("/nonexistent")) != []


def test_the_course_s_compose_fixes_what_a_compose_file_can() -> None:
    """docker-compose.yml's chapter 08 services, through the same checks: OpenSearch has security off
    but is loopback-only, every image is pinned, each server keeps its data in a named volume,
    Prometheus mounts the repository's rules and Alertmanager receives them, nothing is public.
    Shipping stays undone in Compose on purpose: the services ship their own logs and spans
    (reference/observability/shipper.py; tests/observability/test_demo.py finds both in OpenSearch)."""
    ours = load(REPO_ROOT / "docker-compose.yml")
    stack = {
        "services": {
            name: ours["services"][name] for name in ("opensearch", "prometheus", "alertmanager")
        }
    }
    found = defects(stack, REPO_ROOT)
    assert found.pop("nothing ships logs") != []
    assert found == {key: [] for key in found}
    assert security_disabled(stack["services"]["opensearch"])  # a fix only because of the loopback
    assert defects(load())["nothing ships logs"] != []
