"""The server registry: one row per server the course runs, and the one way to probe it.

Pattern: a single table drives everything that knows about servers — ``reference.config`` (the
variables and their defaults, the env file), the launcher (``course services up/down/status``, which
native implementation and which compose service), the test fixtures' and ``course check``'s
preflight (:func:`probe`), and the compose parity test. Adding a server is one native module, one
entry here and one compose service. Taught in ``notebooks/00_setup.ipynb``.

This module imports no client library and nothing from ``course``: the native implementation is
named by its import path, and each probe imports its client when it runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

from reference.setup import probes
from reference.setup.probes import ProbeResult

Probe = Callable[[str, float], ProbeResult]


@dataclass(frozen=True)
class Server:
    """One server: how clients find it, how to ask it who it is, and how the launcher runs it."""

    name: str  # the launcher's name: `course services up NAME`
    title: str  # what it is, for people: "PostgreSQL 15"
    variable: str  # the environment variable holding its URL
    default: str  # that variable's default (non-default port on 127.0.0.1)
    probe: Probe  # a real client round trip: readiness, flavour and version
    native: str  # "module:Class" of its NativeServer in course.services.native
    compose_service: str  # its service in docker-compose.yml
    chapters: tuple[str, ...]  # the chapters ("00", "03" …) whose notebooks or exercises need it
    # Further settings the server brings (variable -> default): a management URL, credentials.
    extra: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    heavy: bool = False  # slow to start: the fixtures start it only for a test that needs it


REGISTRY: Final[tuple[Server, ...]] = (
    Server(
        name="postgres",
        title="PostgreSQL 15",
        variable="DATABASE_URL",
        default="postgresql://course:course@127.0.0.1:15432/course",
        probe=probes.probe_postgres,
        native="course.services.native.postgres:PostgresServer",
        compose_service="postgres",
        chapters=("00", "01", "02", "05", "06", "07", "08"),
    ),
    Server(
        name="mongo",
        title="MongoDB",
        variable="MONGODB_URL",
        default="mongodb://127.0.0.1:17017/?directConnection=true",
        probe=probes.probe_mongo,
        native="course.services.native.mongo:MongoServer",
        compose_service="mongo",
        chapters=("00", "02", "07"),
    ),
    Server(
        name="redis",
        title="Redis 7.0",
        variable="REDIS_URL",
        default="redis://:course@127.0.0.1:16379/0",
        probe=probes.probe_redis,
        native="course.services.native.redis:RedisServer",
        compose_service="redis",
        chapters=("00", "02", "03", "06", "07", "08"),
    ),
    Server(
        name="kafka",
        title="Apache Kafka 4.1",
        variable="KAFKA_BOOTSTRAP_SERVERS",
        default="127.0.0.1:19092",
        probe=probes.probe_kafka,
        native="course.services.native.kafka:KafkaServer",
        compose_service="kafka",
        chapters=("00", "05"),
        # Two SASL listeners beside the open one (course/services/native/kafka.py): SCRAM for
        # `course grade`'s per-job users, and PLAIN for the super user the grader administers with.
        extra=MappingProxyType(
            {
                "KAFKA_GRADING_BOOTSTRAP_SERVERS": "127.0.0.1:19094",
                "KAFKA_ADMIN_URL": "sasl-plain://admin:course@127.0.0.1:19095",
            }
        ),
    ),
    Server(
        name="rabbitmq",
        title="RabbitMQ 3.10",
        variable="AMQP_URL",
        default="amqp://course:course@127.0.0.1:16672/%2F",
        probe=probes.probe_rabbitmq,
        native="course.services.native.rabbitmq:RabbitMQServer",
        compose_service="rabbitmq",
        chapters=("00", "05"),
        # RabbitMQ's management HTTP API (vhosts for test isolation, queue depths).
        extra=MappingProxyType({"RABBITMQ_MANAGEMENT_URL": "http://course:course@127.0.0.1:16673"}),
    ),
    Server(
        name="keycloak",
        title="Keycloak 26",
        variable="KEYCLOAK_URL",
        default="http://127.0.0.1:18080",
        probe=probes.probe_keycloak,
        native="course.services.native.keycloak:KeycloakServer",
        compose_service="keycloak",
        chapters=("03",),
        # The course realm's secrets, substituted into course-realm.json at import; the master
        # realm's administrator (the admin console at KEYCLOAK_URL/admin/) is `admin` with
        # KEYCLOAK_MASTER_PASSWORD. Local-only defaults: override them in the environment.
        extra=MappingProxyType(
            {
                "KEYCLOAK_MASTER_PASSWORD": "course",
                "KEYCLOAK_ALICE_PASSWORD": "alice-course",
                "KEYCLOAK_BOB_PASSWORD": "bob-course",
                "KEYCLOAK_ADMIN_PASSWORD": "admin-course",
                "KEYCLOAK_WEB_SECRET": "course-web-secret",
                "KEYCLOAK_SERVICE_SECRET": "course-service-secret",
            }
        ),
        heavy=True,
    ),
    Server(
        name="nginx",
        title="nginx 1.22 (HTTP cache)",
        variable="CACHE_PROXY_URL",
        default="http://127.0.0.1:18090",
        probe=probes.probe_nginx,
        native="course.services.native.nginx:NginxServer",
        compose_service="nginx",
        chapters=("06",),
        # The origin it caches: the chapter 06 demo app on this loopback port
        # (course/services/native/nginx/cache.conf.template).
        extra=MappingProxyType({"CACHE_ORIGIN_PORT": "18091"}),
    ),
    Server(
        name="etcd",
        title="etcd 3.4 (service registry)",
        variable="ETCD_URL",
        default="http://127.0.0.1:12379",
        probe=probes.probe_etcd,
        native="course.services.native.etcd:EtcdServer",
        compose_service="etcd",
        chapters=("04",),
    ),
    Server(
        name="envoy",
        title="Envoy 1.40 (API gateway)",
        variable="GATEWAY_URL",
        default="http://127.0.0.1:18100",
        probe=probes.probe_envoy,
        native="course.services.native.envoy:EnvoyServer",
        compose_service="envoy",
        chapters=("04",),
        # Envoy's admin interface (stats, readiness, server_info): loopback only. Its upstreams are
        # the demo services (python -m reference.microservices.demo) on 127.0.0.1:18111-18113.
        extra=MappingProxyType({"ENVOY_ADMIN_URL": "http://127.0.0.1:18101"}),
    ),
    Server(
        name="prometheus",
        title="Prometheus 2.42 (metrics)",
        variable="PROMETHEUS_URL",
        default="http://127.0.0.1:19190",
        probe=probes.probe_prometheus,
        native="course.services.native.prometheus:PrometheusServer",
        compose_service="prometheus",
        chapters=("08",),
        # It scrapes itself, Alertmanager and the chapter 08 demo app (127.0.0.1:18120), with the
        # rules in reference/observability/rules/ (course/services/native/prometheus/).
    ),
    Server(
        name="alertmanager",
        title="Alertmanager 0.25 (alert routing)",
        variable="ALERTMANAGER_URL",
        default="http://127.0.0.1:19193",
        probe=probes.probe_alertmanager,
        native="course.services.native.alertmanager:AlertmanagerServer",
        compose_service="alertmanager",
        chapters=("08",),
    ),
    Server(
        name="opensearch",
        title="OpenSearch 2.19 (log store)",
        variable="OPENSEARCH_URL",
        default="http://127.0.0.1:19200",
        probe=probes.probe_opensearch,
        native="course.services.native.opensearch:OpenSearchServer",
        compose_service="opensearch",
        chapters=("08",),
        # The node's transport port (node-to-node; a single node binds it anyway): loopback only.
        extra=MappingProxyType({"OPENSEARCH_TRANSPORT_PORT": "19300"}),
        heavy=True,
    ),
)

SERVERS: Final[Mapping[str, Server]] = MappingProxyType({s.name: s for s in REGISTRY})
"""The registry by name, in the order servers are listed everywhere."""


def server(name: str) -> Server:
    """One registry entry; an unknown name is a ``ValueError`` listing the valid ones."""
    try:
        return SERVERS[name]
    except KeyError:
        raise ValueError(
            f"unknown server {name!r}; valid names are: {', '.join(SERVERS)}"
        ) from None


def needed_by(chapters: Iterable[str]) -> list[str]:
    """The servers any of ``chapters`` needs, in registry order."""
    wanted = set(chapters)
    return [s.name for s in REGISTRY if wanted & set(s.chapters)]


def probe(name: str, url: str, timeout: float = 3.0) -> ProbeResult:
    """Probe server ``name`` at ``url`` with its real client; raises when it does not answer.

    The one probe path: the launcher's readiness wait and ``status``, the test fixtures and
    ``course check`` all come here.
    """
    return server(name).probe(url, timeout)
