"""Probes: one real client round trip per server, reporting what answered and how fast.

Pattern: a readiness probe is a real request with the client library the course uses, never a port
check. Taught in ``notebooks/00_setup.ipynb``; the server registry (``reference/setup/servers.py``)
names each server's probe, and the launcher, ``course services status``, the test fixtures and
``course check`` all call it through :func:`reference.setup.servers.probe`.

Each ``probe_<name>(url, timeout)`` connects with the same client library the course uses, asks the
server who it is, and returns a :class:`ProbeResult` (flavour, version, round-trip milliseconds of
that one request, connection setup excluded). Any failure raises: a closed port, wrong credentials,
a server still starting. The launcher polls a probe until it succeeds to know a server is ready;
``course services status`` shows the results.

How the versions are learnt:

- PostgreSQL: ``SHOW server_version``.
- MongoDB: ``buildInfo``. Genuine MongoDB reports ``gitVersion`` (the commit it was built from);
  mongo-java-server does not, and our ``CourseMongoServer`` adds ``compatibleServer`` naming itself.
- Redis: ``INFO server`` → ``redis_version``.
- Kafka: the protocol carries no release string, so the version is derived from the ApiVersions
  response: its ``metadata.version`` feature (KRaft brokers, 3.3+) has a highest supported level
  that names the release exactly to the minor version (27 = "4.1-IV1" → Kafka 4.1); older brokers
  fall back to kafka-python's inference from the per-request version ranges. Patch releases
  (4.1.0 vs 4.1.1) do not change the protocol and cannot be told apart.
- RabbitMQ: the ``product`` and ``version`` server properties of the AMQP handshake.
- nginx: its own status location (``/course-cache-status``, answered without the origin) over
  httpx; the version is the ``Server`` header's (``nginx/1.22.1``).
- etcd: the maintenance ``Status`` call over etcd3gw (etcd's JSON gateway) → its ``version``.
- Envoy: the course gateway's marker route (``/__course_gateway__``) over httpx, then the admin
  interface's ``/server_info`` (``ENVOY_ADMIN_URL``) for the version Envoy reports.
- Prometheus: ``/api/v1/status/buildinfo`` over httpx → its ``version`` (a Go build's revision too).
- Alertmanager: ``/api/v2/status`` → ``versionInfo.version`` (with its ``cluster`` and ``config``).
- OpenSearch: ``GET /`` → ``version.number``, only if ``version.distribution`` is ``opensearch``
  (an Elasticsearch answers the same shape without it).
- Keycloak: the course realm's OpenID discovery document must answer (the realm is loaded), and the
  version is the one the login page's resource paths carry (``/resources/<version>/…``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ProbeResult:
    """What a real client learnt from one round trip to a server."""

    flavour: str  # "PostgreSQL", "MongoDB", "compatible server (mongo-java-server)", …
    version: str
    rtt_ms: float


# Each probe imports its client library itself: together they take seconds to import, and a
# command that needs one server (or none) should not pay for all five.

# Kafka's metadata.version feature levels (org.apache.kafka.server.common.MetadataVersion) for the
# newest level each release supports by default. Read from kafka-server-common 4.1.1; levels above
# the table are reported by number.
KAFKA_METADATA_VERSIONS: dict[int, str] = {
    7: "3.3-IV3",
    8: "3.4-IV0",
    9: "3.5-IV0",
    10: "3.5-IV1",
    11: "3.5-IV2",
    12: "3.6-IV0",
    13: "3.6-IV1",
    14: "3.6-IV2",
    15: "3.7-IV0",
    16: "3.7-IV1",
    17: "3.7-IV2",
    18: "3.7-IV3",
    19: "3.7-IV4",
    20: "3.8-IV0",
    21: "3.9-IV0",
    22: "4.0-IV0",
    23: "4.0-IV1",
    24: "4.0-IV2",
    25: "4.0-IV3",
    26: "4.1-IV0",
    27: "4.1-IV1",
}


def _elapsed_ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 2)


def probe_postgres(url: str, timeout: float = 3.0) -> ProbeResult:
    """``SHOW server_version`` over psycopg 3 → ("PostgreSQL", "15.14")."""
    import psycopg

    # libpq takes whole seconds and treats values below 2 as 2.
    with psycopg.connect(url, connect_timeout=max(2, math.ceil(timeout))) as conn:
        conn.execute(f"SET statement_timeout = {int(timeout * 1000)}")
        start = time.perf_counter()
        row = conn.execute("SHOW server_version").fetchone()
        rtt = _elapsed_ms(start)
    if row is None:
        raise RuntimeError("SHOW server_version returned no row")
    # Debian builds append the package version: "15.14 (Debian 15.14-0+deb12u1)".
    return ProbeResult("PostgreSQL", str(row[0]).split()[0], rtt)


def mongo_flavour(build_info: Mapping[str, Any]) -> str:
    """Name the implementation behind a ``buildInfo`` reply — the course's one rule for "genuine".

    Genuine MongoDB always reports ``gitVersion``; mongo-java-server reports only version fields,
    and our CourseMongoServer adds ``compatibleServer`` with the library's name and version. A
    reply with neither is an unknown stand-in, not MongoDB: claiming features it may lack would
    make tests fail for the wrong reason.
    """
    compatible = build_info.get("compatibleServer")
    if compatible:
        return f"compatible server ({compatible})"
    if "gitVersion" in build_info:
        return "MongoDB"
    return "compatible server (unknown implementation)"


def probe_mongo(url: str, timeout: float = 3.0) -> ProbeResult:
    """``buildInfo`` over PyMongo → ("MongoDB", "7.0.14") or ("compatible server (…)", "4.4.0")."""
    from pymongo import MongoClient

    timeout_ms = int(timeout * 1000)
    client: MongoClient[dict[str, Any]] = MongoClient(
        url,
        serverSelectionTimeoutMS=timeout_ms,
        connectTimeoutMS=timeout_ms,
        socketTimeoutMS=timeout_ms,
        appname="course-probe",
    )
    try:
        # The first command also selects the server (the handshake); time a second, plain one.
        client.admin.command("ping")
        start = time.perf_counter()
        info = client.admin.command("buildInfo")
        rtt = _elapsed_ms(start)
    finally:
        client.close()
    return ProbeResult(mongo_flavour(info), str(info["version"]), rtt)


def is_genuine(build_info: Mapping[str, Any]) -> bool:
    """True when a ``buildInfo`` reply comes from genuine MongoDB (see :func:`mongo_flavour`)."""
    return mongo_flavour(build_info) == "MongoDB"


def mongo_is_genuine(url: str, timeout: float = 3.0) -> bool:
    """True when ``url`` is served by genuine MongoDB, not a wire-compatible stand-in."""
    return probe_mongo(url, timeout).flavour == "MongoDB"


def probe_redis(url: str, timeout: float = 3.0) -> ProbeResult:
    """``INFO server`` over redis-py → ("Redis", "7.0.15")."""
    import redis

    client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
    try:
        client.ping()
        start = time.perf_counter()
        info = client.info("server")
        rtt = _elapsed_ms(start)
    finally:
        client.close()
    # Valkey (the Redis fork) answers the same protocol and says so in server_name.
    if info.get("server_name") == "valkey":
        return ProbeResult("Valkey", str(info.get("valkey_version", info["redis_version"])), rtt)
    return ProbeResult("Redis", str(info["redis_version"]), rtt)


def kafka_version(
    features: Mapping[str, Mapping[str, Any]], api_versions: Mapping[int, tuple[int, int]]
) -> str:
    """The broker release as precisely as the protocol tells it: "4.1 (metadata.version 4.1-IV1)".

    ``features`` is kafka-python's ``describe_features()`` (ApiVersions v3+); ``api_versions`` maps
    each request's key to the (min, max) versions the broker accepts.
    """
    from kafka.protocol.broker_version_data import infer_broker_version_from_api_versions

    supported = features.get("metadata.version", {}).get("supported")
    if supported:
        level = int(supported[1])
        name = KAFKA_METADATA_VERSIONS.get(level)
        if name is not None:
            return f"{name.split('-')[0]} (metadata.version {name})"
        return f"newer than 4.1 (metadata.version level {level})"
    inferred = infer_broker_version_from_api_versions(dict(api_versions))
    return ".".join(str(part) for part in inferred)


def probe_kafka(url: str, timeout: float = 3.0) -> ProbeResult:
    """ApiVersions and DescribeCluster over kafka-python → ("Apache Kafka", "4.1 (…)").

    ``url`` is a bootstrap list ("127.0.0.1:19092"). The broker must have registered itself
    (DescribeCluster lists it): a socket that accepts while the broker is still starting fails.
    """
    from kafka import KafkaAdminClient

    timeout_ms = int(timeout * 1000)
    admin = KafkaAdminClient(
        bootstrap_servers=url,
        client_id="course-probe",
        request_timeout_ms=timeout_ms,
        bootstrap_timeout_ms=timeout_ms,
    )
    try:
        cluster = admin.describe_cluster()
        if not cluster.get("brokers"):
            raise RuntimeError(f"Kafka at {url} lists no brokers yet")
        start = time.perf_counter()
        features = admin.describe_features()
        rtt = _elapsed_ms(start)
        version = kafka_version(features, admin.api_versions())
    finally:
        admin.close()
    return ProbeResult("Apache Kafka", version, rtt)


def probe_rabbitmq(url: str, timeout: float = 3.0) -> ProbeResult:
    """The AMQP handshake's server properties over pika → ("RabbitMQ", "3.10.8")."""
    import pika

    params = pika.URLParameters(url)
    params.socket_timeout = timeout
    params.stack_timeout = timeout
    params.blocked_connection_timeout = timeout
    params.connection_attempts = 1
    connection = pika.BlockingConnection(params)
    try:
        # Opening a channel is one Channel.Open / Channel.OpenOk round trip.
        start = time.perf_counter()
        channel = connection.channel()
        rtt = _elapsed_ms(start)
        channel.close()
        # pika keeps the handshake's Connection.Start properties on the underlying connection.
        properties: dict[str, Any] = connection._impl.server_properties or {}
    finally:
        connection.close()

    def text(value: Any) -> str:
        return value.decode() if isinstance(value, bytes) else str(value)

    return ProbeResult(
        text(properties.get("product", "AMQP 0-9-1 server")),
        text(properties.get("version", "unknown")),
        rtt,
    )


KEYCLOAK_REALM = "course"
"""The realm the course imports (``course/services/native/keycloak/course-realm.json``)."""


def probe_keycloak(url: str, timeout: float = 3.0) -> ProbeResult:
    """The course realm's discovery document over httpx → ("Keycloak", "26.7.3 (realm course loaded)").

    Ready means the realm is imported and answering, not only that the port is open: the master
    realm answers seconds before the course realm's import has finished. Keycloak publishes its
    version only to administrators, so it is read from ``/admin/serverinfo`` with the master realm's
    ``admin`` (``KEYCLOAK_MASTER_PASSWORD``); without that login the version is "unknown".
    """
    import httpx

    from reference.config import get_settings

    with httpx.Client(base_url=url, timeout=timeout) as client:
        start = time.perf_counter()
        discovery = client.get(f"/realms/{KEYCLOAK_REALM}/.well-known/openid-configuration")
        rtt = _elapsed_ms(start)
        if discovery.status_code == 404:
            raise RuntimeError(f"Keycloak answers but realm {KEYCLOAK_REALM!r} is not loaded")
        discovery.raise_for_status()
        version = "unknown"
        login = client.post(
            "/realms/master/protocol/openid-connect/token",
            data={
                "grant_type": "password",
                "client_id": "admin-cli",
                "username": "admin",
                "password": get_settings()["KEYCLOAK_MASTER_PASSWORD"],
            },
        )
        if login.status_code == 200:
            token = login.json()["access_token"]
            info = client.get("/admin/serverinfo", headers={"Authorization": f"Bearer {token}"})
            if info.status_code == 200:
                version = str(info.json()["systemInfo"]["version"])
    return ProbeResult("Keycloak", f"{version} (realm {KEYCLOAK_REALM} loaded)", rtt)


def probe_nginx(url: str, timeout: float = 3.0) -> ProbeResult:
    """The course cache's status location over httpx → ("nginx", "1.22.1").

    The body must be the course configuration's ("course cache"): another web server on the port is
    an error, not a healthy cache.
    """
    import httpx

    with httpx.Client(base_url=url, timeout=timeout) as client:
        start = time.perf_counter()
        response = client.get("/course-cache-status")
        rtt = _elapsed_ms(start)
    response.raise_for_status()
    if response.text.strip() != "course cache":
        raise RuntimeError(f"{url} answers, but not with the course's nginx configuration")
    flavour, _, version = response.headers.get("server", "").partition("/")
    if flavour != "nginx":
        raise RuntimeError(f"{url} answers as {response.headers.get('server')!r}, not nginx")
    return ProbeResult("nginx", version or "unknown", rtt)


def probe_etcd(url: str, timeout: float = 3.0) -> ProbeResult:
    """etcd's maintenance ``Status`` over etcd3gw → ("etcd", "3.4.23").

    Another HTTP server on the port is an error, not a registry: the answer must be etcd's status
    (a cluster header and a version), which nothing else on ``/v3/maintenance/status`` returns.
    """
    from reference.microservices.etcd import etcd_client

    client = etcd_client(url, timeout)
    try:
        start = time.perf_counter()
        status = client.status()
        rtt = _elapsed_ms(start)
    finally:
        client.session.close()
    header = status.get("header") if isinstance(status, dict) else None
    version = status.get("version") if isinstance(status, dict) else None
    if not isinstance(header, dict) or "cluster_id" not in header or not isinstance(version, str):
        raise RuntimeError(f"{url} answers, but not as etcd")
    return ProbeResult("etcd", version, rtt)


def probe_envoy(url: str, timeout: float = 3.0) -> ProbeResult:
    """The course gateway's marker route, then Envoy's admin ``/server_info`` → ("Envoy", "1.40.0").

    The marker (``/__course_gateway__`` answering "course gateway", a direct response of the course's
    configuration) tells our gateway from any other server on the port; the version is the one the
    running Envoy reports on its admin interface (``ENVOY_ADMIN_URL``).
    """
    import httpx

    from reference.config import get_settings

    with httpx.Client(timeout=timeout) as client:
        start = time.perf_counter()
        response = client.get(f"{url.rstrip('/')}/__course_gateway__")
        rtt = _elapsed_ms(start)
        response.raise_for_status()
        if response.text.strip() != "course gateway":
            raise RuntimeError(f"{url} answers, but not with the course's Envoy configuration")
        admin = get_settings()["ENVOY_ADMIN_URL"].rstrip("/")
        info = client.get(f"{admin}/server_info")
        info.raise_for_status()
    # "version": "<sha>/1.40.0/Clean/RELEASE/BoringSSL"
    build = str(info.json().get("version", ""))
    parts = build.split("/")
    if len(parts) < 2:
        raise RuntimeError(f"{admin}/server_info names no Envoy version: {build!r}")
    return ProbeResult("Envoy", parts[1], rtt)


def _get_json(url: str, path: str, timeout: float) -> tuple[object, float]:
    """One GET of a JSON document → (the parsed body, round-trip ms); a non-2xx or non-JSON answer raises."""
    import httpx

    with httpx.Client(timeout=timeout) as client:
        start = time.perf_counter()
        response = client.get(f"{url.rstrip('/')}{path}")
        rtt = _elapsed_ms(start)
    response.raise_for_status()
    try:
        return response.json(), rtt
    except ValueError:
        raise RuntimeError(f"{url}{path} answers, but not with JSON") from None


def probe_prometheus(url: str, timeout: float = 3.0) -> ProbeResult:
    """Prometheus' ``/api/v1/status/buildinfo`` → ("Prometheus", "2.42.0+ds").

    Another HTTP server on the port is an error: the answer must be Prometheus' API envelope
    (``status: success``) around a build record with a version and the Go version it was built with.
    """
    body, rtt = _get_json(url, "/api/v1/status/buildinfo", timeout)
    data = body.get("data") if isinstance(body, dict) and body.get("status") == "success" else None
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("version"), str)
        or "goVersion" not in data
    ):
        raise RuntimeError(f"{url} answers, but not as Prometheus")
    return ProbeResult("Prometheus", data["version"], rtt)


def probe_alertmanager(url: str, timeout: float = 3.0) -> ProbeResult:
    """Alertmanager's ``/api/v2/status`` → ("Alertmanager", "0.25.0").

    The answer must carry Alertmanager's ``versionInfo``, ``cluster`` and loaded ``config``: a
    Prometheus (which has no ``/api/v2/status``) or any other server on the port is refused.
    """
    body, rtt = _get_json(url, "/api/v2/status", timeout)
    info = body.get("versionInfo") if isinstance(body, dict) else None
    if (
        not isinstance(body, dict)
        or not isinstance(info, dict)
        or not isinstance(info.get("version"), str)
        or "cluster" not in body
        or "config" not in body
    ):
        raise RuntimeError(f"{url} answers, but not as Alertmanager")
    return ProbeResult("Alertmanager", info["version"], rtt)


def probe_opensearch(url: str, timeout: float = 3.0) -> ProbeResult:
    """OpenSearch's root document → ("OpenSearch", "2.19.6").

    Elasticsearch answers ``GET /`` with the same shape; only OpenSearch says
    ``version.distribution == "opensearch"``, so an Elasticsearch (or anything else) is refused.
    """
    body, rtt = _get_json(url, "/", timeout)
    version = body.get("version") if isinstance(body, dict) else None
    if (
        not isinstance(version, dict)
        or version.get("distribution") != "opensearch"
        or not isinstance(version.get("number"), str)
    ):
        raise RuntimeError(f"{url} answers, but not as OpenSearch")
    return ProbeResult("OpenSearch", version["number"], rtt)
