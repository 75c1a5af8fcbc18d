"""The guide's ``docker-compose.elk.yml`` (로깅 및 모니터링 › ELK Stack 통합), read as Compose would read it.

Elasticsearch, Kibana and Grafana are not in Debian and no Docker engine runs where this course runs,
so the file cannot be started here. Its defects (guide-defects.md §8.3) are all in the file itself,
and each function below finds one of them in any Compose document — the guide's and the course's own
``docker-compose.yml``, whose ``opensearch``, ``prometheus`` and ``alertmanager`` services fix them
(``tests/observability/test_elk_guide.py`` checks both side by side;
``notebooks/08_observability_request.ipynb`` §5 prints the table):

- **nothing ships logs** (:func:`shipping_gaps`): no Logstash, Beats or other collector service, no
  application container and no ``logging:`` driver — Elasticsearch starts empty and stays empty.
  The course ships from the application itself (:mod:`reference.observability.shipper`, bulk into
  OpenSearch), so no collector is needed for a demo; in production a node-local collector reads
  the containers' stdout;
- **Kibana cannot log in** (:func:`credential_gaps`): Elasticsearch 8 turns security (TLS +
  authentication) on by default; the file neither turns it off nor gives Kibana a service-account
  token, and sets no ``ELASTIC_PASSWORD`` either, so Kibana waits for a cluster it may not talk to.
  Turning security off (as the course's OpenSearch does) is a fix only on a loopback-only port;
- **unpinned images** (:func:`unpinned_images`): ``prom/prometheus:latest`` and
  ``grafana/grafana:latest`` are whatever was pushed last — two learners, two versions;
- **no volumes** (:func:`unpersisted`): the indices, the time series and Grafana's dashboards live
  in the containers' writable layer and go with them;
- **no alerting** (:func:`alerting_gaps`): no Alertmanager, no rule files — the guide's own Rule 7
  (모니터링: 메트릭 수집, 알림 설정) is not met by its own stack;
- and two the defect list does not name: every port is published on all interfaces (Kibana and
  Prometheus have no authentication at all) (:func:`open_ports`), and ``./prometheus/prometheus.yml``
  is bind-mounted but the guide never gives it — Compose creates a *directory* there and Prometheus
  exits (:func:`missing_bind_sources`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

ELK_COMPOSE = Path(__file__).with_name("docker-compose.elk.yml")

# Images whose job is to move logs from where they are written to where they are searched.
SHIPPER_IMAGES = (
    "logstash",
    "filebeat",
    "fluent-bit",
    "fluentd",
    "vector",
    "promtail",
    "opentelemetry-collector",
)
# Where each stateful server keeps its data inside the container (the images' documented paths).
DATA_PATHS = {
    "elasticsearch": "/usr/share/elasticsearch/data",
    "opensearch": "/usr/share/opensearch/data",
    "prometheus": "/prometheus",
    "alertmanager": "/alertmanager",
    "grafana": "/var/lib/grafana",
}
# Kibana's ways of authenticating to Elasticsearch 8 (the elastic superuser is refused since 8.0).
KIBANA_CREDENTIALS = ("ELASTICSEARCH_SERVICEACCOUNTTOKEN", "ELASTICSEARCH_USERNAME")

# Host addresses that publish a port to the whole network (compared here, never bound).
ALL_INTERFACES = ("0.0.0.0", "::", "[::]")  # noqa: S104

Compose = Mapping[str, Any]


def load(path: Path = ELK_COMPOSE) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text())
    if not isinstance(document, dict) or not isinstance(document.get("services"), dict):
        raise ValueError(f"{path} is not a Compose file with services")
    return document


def image(service: Mapping[str, Any]) -> tuple[str, str | None]:
    """``(name, tag)`` of a service's image: ``docker.elastic.co/kibana/kibana:8.11.0`` is
    ``("kibana", "8.11.0")``; no tag is ``None`` (Docker then pulls ``latest``)."""
    reference = str(service.get("image", ""))
    reference = reference.split("@", 1)[0]  # a digest pins by itself, but the name is before it
    path, _, tag = reference.rpartition(":")
    if not path or "/" in tag:  # the colon was a registry's port, or there was none
        path, tag = reference, ""
    return path.rsplit("/", 1)[-1], tag or None


def environment(service: Mapping[str, Any]) -> dict[str, str]:
    """A service's environment whichever way it is written (a list of ``K=V`` or a mapping)."""
    env = service.get("environment") or {}
    if isinstance(env, Mapping):
        return {str(key): str(value) for key, value in env.items()}
    pairs = (str(item).partition("=") for item in env)
    return {key: value for key, _, value in pairs}


def services_of(document: Compose, name: str) -> dict[str, Mapping[str, Any]]:
    """The services whose image is ``name`` (by image, not by the service's own key)."""
    return {key: svc for key, svc in document["services"].items() if image(svc)[0] == name}


def shipping_gaps(document: Compose) -> list[str]:
    """Empty when some service moves logs into the store; else why nothing reaches it."""
    if log_shippers(document):
        return []
    return ["no Logstash/Beats/collector service and no logging driver: nothing ships logs"]


def log_shippers(document: Compose) -> list[str]:
    """Services that move logs: a collector image, or a container whose ``logging`` driver sends
    its output somewhere other than the local disk."""
    found = []
    for key, service in document["services"].items():
        driver = (service.get("logging") or {}).get("driver", "json-file")
        if image(service)[0] in SHIPPER_IMAGES or driver not in ("json-file", "local", "none"):
            found.append(key)
    return found


def security_disabled(service: Mapping[str, Any]) -> bool:
    """Whether a search server's security (TLS + authentication) is turned off: Elasticsearch 8
    and OpenSearch 2 images both start with it on."""
    env = {key: value.lower() for key, value in environment(service).items()}
    return (
        env.get("xpack.security.enabled") == "false"
        or env.get("plugins.security.disabled") == "true"
        or env.get("DISABLE_SECURITY_PLUGIN") == "true"
    )


def credential_gaps(document: Compose) -> list[str]:
    """Why a client of the search server cannot connect — or why anyone can: security is on unless
    turned off, and then each service that depends on it needs credentials; turned off, the server
    must not be reachable from the network."""
    gaps = []
    servers = {**services_of(document, "elasticsearch"), **services_of(document, "opensearch")}
    for key, service in servers.items():
        name, tag = image(service)
        major = tag.split(".")[0] if tag else ""
        # Elasticsearch before 8.0 had no security unless configured: as open as turning it off.
        old = name == "elasticsearch" and major.isdigit() and int(major) < 8
        if old or security_disabled(service):
            public = open_ports({"services": {key: service}})  # "key: port" each
            gaps += [
                f"{key}: security off on a public port ({entry.split(': ', 1)[1]})"
                for entry in public
            ]
            continue
        if "ELASTIC_PASSWORD" not in environment(service) and name == "elasticsearch":
            gaps.append(f"{key}: security on (8.x default) and no ELASTIC_PASSWORD set")
        for client, other in document["services"].items():
            if key in (other.get("depends_on") or []) and not set(environment(other)) & set(
                KIBANA_CREDENTIALS
            ):
                gaps.append(f"{client}: depends on {key} but has no credentials for it")
    return gaps


def unpinned_images(document: Compose) -> list[str]:
    """Services whose image is ``latest`` or untagged (a digest would pin it too)."""
    return [
        key
        for key, service in document["services"].items()
        if "@" not in str(service.get("image", "")) and image(service)[1] in (None, "latest")
    ]


def mount_targets(service: Mapping[str, Any]) -> list[str]:
    targets = []
    for volume in service.get("volumes") or []:
        if isinstance(volume, Mapping):
            targets.append(str(volume.get("target", "")))
        else:
            parts = str(volume).split(":")
            targets.append(parts[1] if len(parts) > 1 else parts[0])
    return targets


def unpersisted(document: Compose) -> list[str]:
    """Stateful servers with nothing mounted where they keep their data."""
    return [
        key
        for key, service in document["services"].items()
        if (path := DATA_PATHS.get(image(service)[0])) is not None
        and not any(target.rstrip("/") == path for target in mount_targets(service))
    ]


def alerting_gaps(document: Compose) -> list[str]:
    """What an alert needs and the document lacks: rules Prometheus evaluates, an Alertmanager."""
    gaps = []
    if not services_of(document, "alertmanager"):
        gaps.append("no Alertmanager service: a firing alert reaches no one")
    for key, service in services_of(document, "prometheus").items():
        mounted = " ".join(str(volume) for volume in service.get("volumes") or [])
        if "rule" not in mounted:
            gaps.append(f"{key}: no rule files mounted, so no alert can fire")
    return gaps


def open_ports(document: Compose) -> list[str]:
    """Published ports reachable from every interface (``"9200:9200"``, not ``"127.0.0.1:…"``)."""
    found = []
    for key, service in document["services"].items():
        for entry in service.get("ports") or []:
            parts = str(entry).split(":")
            if len(parts) < 3 or parts[0] in ALL_INTERFACES:
                found.append(f"{key}: {entry}")
    return found


def missing_bind_sources(document: Compose, base: Path) -> list[str]:
    """Relative bind-mount sources that do not exist next to the file (Compose would create an
    empty directory there, and a server expecting a config *file* exits)."""
    missing = []
    for key, service in document["services"].items():
        for volume in service.get("volumes") or []:
            source = str(volume).split(":")[0] if not isinstance(volume, Mapping) else ""
            if source.startswith(".") and not (base / source).exists():
                missing.append(f"{key}: {source}")
    return missing


def defects(document: Compose, base: Path = ELK_COMPOSE.parent) -> dict[str, list[str]]:
    """Every check above, by name: empty lists are what a sound stack gives."""
    return {
        "nothing ships logs": shipping_gaps(document),
        "credential gaps": credential_gaps(document),
        "unpinned images": unpinned_images(document),
        "stateful without volume": unpersisted(document),
        "alerting gaps": alerting_gaps(document),
        "ports on all interfaces": open_ports(document),
        "missing bind-mount sources": missing_bind_sources(document, base),
    }
