"""Names of the per-test server resources, and their removal by run when teardown never ran.

The fixtures in :mod:`course.testing.fixtures` give every test its own PostgreSQL database, MongoDB
database, Redis key prefix, Kafka topics and RabbitMQ vhost, all named by :func:`unique_name`, and
remove them in teardown. A grading run stopped at its time limit (or killed, or ended by
``os._exit`` in the graded code) never reaches teardown, and a Redis key without a TTL would then stay
on the shared server for good. So :mod:`course.harness.runner` gives every run a tag
(``COURSE_RUN_TAG``); every name the run makes carries it (``t_<tag>_<hex>``), and once the run's
process is gone the runner calls :func:`remove_run_resources` to delete whatever still carries it.
"""

from __future__ import annotations

import os
import re
import secrets
import uuid
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Final
from urllib.parse import quote, unquote, urlsplit

from reference.config import Settings, get_settings

if TYPE_CHECKING:
    import httpx
    from kafka.admin import KafkaAdminClient

RUN_TAG_VARIABLE: Final = "COURSE_RUN_TAG"
_TAG: Final = re.compile(r"r[0-9a-f]{10}")


def new_run_tag() -> str:
    """A tag no other run will pick (``r3f9a1c2b4d``): lowercase hex, valid in every server's names."""
    return "r" + secrets.token_hex(5)


def unique_name(prefix: str) -> str:
    """A short name no other test, worker or run will pick (``t_3f9a1c2b``), carrying the run's
    tag when the runner set one (``t_r3f9a1c2b4d_0c1d2e3f4a``)."""
    tag = os.environ.get(RUN_TAG_VARIABLE, "")
    middle = f"{tag}_" if _TAG.fullmatch(tag) else ""
    return f"{prefix}_{middle}{uuid.uuid4().hex[:10]}"


def _marker(tag: str) -> str:
    if not _TAG.fullmatch(tag):
        raise ValueError(f"not a run tag: {tag!r}")
    return f"_{tag}_"


def _postgres(settings: Settings, marker: str) -> list[str]:
    import psycopg
    from psycopg import sql

    with psycopg.connect(settings.database_url, autocommit=True) as admin:
        names = [
            str(row[0])
            for row in admin.execute(
                "SELECT datname FROM pg_database WHERE strpos(datname, %s) > 0", (marker,)
            )
        ]
        for name in names:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
    return [f"postgres database {name}" for name in names]


def _mongo(settings: Settings, marker: str) -> list[str]:
    import pymongo

    client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(
        settings.mongodb_url, serverSelectionTimeoutMS=5000
    )
    try:
        names = [name for name in client.list_database_names() if marker in name]
        for name in names:
            client.drop_database(name)
    finally:
        client.close()
    return [f"mongo database {name}" for name in names]


def _redis(settings: Settings, marker: str) -> list[str]:
    import redis

    client = redis.Redis.from_url(settings.redis_url)
    try:
        keys = list(client.scan_iter(match=f"*{marker}*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()
    return [f"{len(keys)} redis key(s) *{marker}*"] if keys else []


def kafka_admin(settings: Settings) -> KafkaAdminClient:
    """An admin client as the broker's super user, on its INTERNAL listener (``KAFKA_ADMIN_URL``):
    it sees and may delete what a grading job's ACLs close to everyone else."""
    from kafka.admin import KafkaAdminClient

    admin = settings.endpoint("KAFKA_ADMIN_URL")
    return KafkaAdminClient(
        bootstrap_servers=f"{admin.host}:{admin.port}",
        security_protocol="SASL_PLAINTEXT",
        sasl_mechanism="PLAIN",
        sasl_plain_username=admin.username,
        sasl_plain_password=admin.password,
        request_timeout_ms=10_000,
    )


def _kafka(settings: Settings, marker: str) -> list[str]:
    admin = kafka_admin(settings)
    try:
        names = [name for name in admin.list_topics() if marker in name]
        if names:
            admin.delete_topics(names)
        groups = [g["group_id"] for g in admin.list_groups() if marker in str(g["group_id"])]
        if groups:
            admin.delete_groups(groups)
    finally:
        admin.close()
    return [f"kafka topic {name}" for name in names] + [f"kafka group {name}" for name in groups]


def _rabbitmq(settings: Settings, marker: str) -> list[str]:
    with _rabbitmq_admin(settings) as api:
        response = api.get("/api/vhosts", params={"columns": "name"})
        response.raise_for_status()
        names = [str(v["name"]) for v in response.json() if marker in str(v["name"])]
        for name in names:
            api.delete(f"/api/vhosts/{quote(name, safe='')}")
    return [f"rabbitmq vhost {name}" for name in names]


def _etcd(settings: Settings, marker: str) -> list[str]:
    from reference.microservices.etcd import etcd_client

    client = etcd_client(settings.url_for("etcd"), timeout=10.0)
    try:
        # Keys only, every key ("\0" to "\0" is etcd's whole keyspace): the run's names are inside them.
        every = client.get("\0", metadata=True, range_end="\0", keys_only=True)
        keys = [meta["key"] for _value, meta in every if marker.encode() in meta["key"]]
        for key in keys:
            client.delete(key)
    finally:
        client.session.close()
    return [f"{len(keys)} etcd key(s) *{marker}*"] if keys else []


def _opensearch(settings: Settings, marker: str) -> list[str]:
    import httpx

    with httpx.Client(base_url=settings.url_for("opensearch"), timeout=10.0) as client:
        response = client.get("/_cat/indices", params={"format": "json", "h": "index"})
        response.raise_for_status()
        names = [str(row["index"]) for row in response.json() if marker in str(row["index"])]
        for name in names:
            # one by one: a wildcard delete is refused when action.destructive_requires_name is set
            client.delete(f"/{quote(name, safe='')}").raise_for_status()
    return [f"opensearch index {name}" for name in names]


_REMOVERS: Final[dict[str, Callable[[Settings, str], list[str]]]] = {
    "postgres": _postgres,
    "mongo": _mongo,
    "redis": _redis,
    "kafka": _kafka,
    "rabbitmq": _rabbitmq,
    "etcd": _etcd,
    "opensearch": _opensearch,
}


SERVERS: Final = tuple(_REMOVERS)


def remove_run_resources(
    tag: str, servers: Iterable[str], settings: Settings | None = None
) -> tuple[list[str], list[str]]:
    """Delete every database, key, topic and vhost of run ``tag`` on ``servers``.

    Returns ``(removed, problems)``: what was still there (teardown did not run), and one line per
    server that could not be cleaned. Never raises for a server: a grade is not lost to cleanup.
    """
    marker = _marker(tag)
    settings = settings or get_settings()
    removed: list[str] = []
    problems: list[str] = []
    for server in servers:
        try:
            removed += _REMOVERS[server](settings, marker)
        except Exception as error:  # noqa: BLE001 — reported to the caller, never fatal
            problems.append(f"{server}: could not remove run {tag}'s leftovers ({error})")
    return removed, problems


# --- Per-job credentials ----------------------------------------------------------------------
# A grading job runs the student's code with the server credentials its fixtures use. On PostgreSQL
# that was the course's superuser (which can read every database, drop any of them and run shell
# commands through COPY … PROGRAM); each job now gets a role of its own instead.

JOB_ROLE_CONNECTIONS: Final = 30
"""Connections one job's role may hold: enough for the grading tests' concurrent clients, too few
to exhaust the server's ``max_connections`` for the jobs running beside it."""


def job_role(tag: str) -> str:
    """The PostgreSQL role of run ``tag`` (``course_grade_r3f9a1c2b4d``)."""
    _marker(tag)  # validates the tag
    return f"course_grade_{tag}"


def create_postgres_role(tag: str, settings: Settings | None = None) -> str:
    """Create run ``tag``'s login role and return a ``DATABASE_URL`` for it.

    The role may create databases — so it owns, and may drop, the ones its fixtures create — but it
    is no superuser: it cannot create roles, replicate, bypass row security, read another role's
    tables, drop a database it does not own or run programs on the server.
    """
    import psycopg
    from psycopg import sql

    settings = settings or get_settings()
    name, password = job_role(tag), secrets.token_hex(16)
    with psycopg.connect(settings.database_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL(
                "CREATE ROLE {} LOGIN CREATEDB NOSUPERUSER NOCREATEROLE NOREPLICATION NOBYPASSRLS "
                "CONNECTION LIMIT {} PASSWORD {}"
            ).format(sql.Identifier(name), sql.Literal(JOB_ROLE_CONNECTIONS), sql.Literal(password))
        )
    parts = urlsplit(settings.database_url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return parts._replace(netloc=f"{name}:{password}@{host}").geturl()


def drop_postgres_role(tag: str, settings: Settings | None = None) -> list[str]:
    """Drop run ``tag``'s role with every database it owns (named after the tag or not) and
    whatever it owns in the course's database; returns what was removed."""
    import psycopg
    from psycopg import sql

    settings = settings or get_settings()
    name = job_role(tag)
    with psycopg.connect(settings.database_url, autocommit=True) as admin:
        if admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone() is None:
            return []
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", (name,)
        )
        owned = [
            str(row[0])
            for row in admin.execute(
                "SELECT datname FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba "
                "WHERE r.rolname = %s",
                (name,),
            )
        ]
        for database in owned:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
            )
        admin.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(name)))
        admin.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))
    return [*(f"postgres database {d}" for d in owned), f"postgres role {name}"]


# RabbitMQ permissions are granted per vhost and only an administrator may create a vhost, so the
# job's user cannot make its own: the parent creates every vhost the job's tests will use, all
# carrying the tag, grants the user those and nothing else, and hands the names over in
# JOB_VHOSTS_VARIABLE (the ``amqp_url`` fixture takes one per test). The user's only tag is
# ``management``: the grading tests read queue arguments through the HTTP API, which then shows it
# its own vhosts, queues and connections only, and refuses it users, vhosts and definitions.

JOB_VHOSTS_VARIABLE: Final = "COURSE_AMQP_VHOSTS"


def _rabbitmq_admin(settings: Settings) -> httpx.Client:
    import httpx

    parts = urlsplit(settings.rabbitmq_management_url)
    return httpx.Client(
        base_url=f"{parts.scheme}://{parts.hostname}:{parts.port or 15672}",
        auth=(unquote(parts.username or ""), unquote(parts.password or "")),
        timeout=10,
    )


def _with_credentials(url: str, user: str, password: str, path: str | None = None) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    changed = parts._replace(netloc=f"{user}:{password}@{host}")
    return (changed if path is None else changed._replace(path=path)).geturl()


def create_rabbitmq_user(tag: str, vhosts: int, settings: Settings | None = None) -> dict[str, str]:
    """Create run ``tag``'s RabbitMQ user and ``vhosts`` + 1 vhosts it alone may use; return the
    job's environment: ``AMQP_URL`` (on the first vhost), ``RABBITMQ_MANAGEMENT_URL`` and
    :data:`JOB_VHOSTS_VARIABLE` (the others, comma-separated), all as that user."""
    settings = settings or get_settings()
    user, password = job_role(tag), secrets.token_hex(16)
    names = [f"t_{tag}_{index:03d}" for index in range(vhosts + 1)]
    with _rabbitmq_admin(settings) as api:
        api.put(
            f"/api/users/{user}", json={"password": password, "tags": "management"}
        ).raise_for_status()
        for name in names:
            api.put(f"/api/vhosts/{name}").raise_for_status()
            api.put(
                f"/api/permissions/{name}/{user}",
                json={"configure": ".*", "write": ".*", "read": ".*"},
            ).raise_for_status()
    return {
        "AMQP_URL": _with_credentials(settings.amqp_url, user, password, "/" + names[0]),
        "RABBITMQ_MANAGEMENT_URL": _with_credentials(
            settings.rabbitmq_management_url, user, password
        ),
        JOB_VHOSTS_VARIABLE: ",".join(names[1:]),
    }


def drop_rabbitmq_user(tag: str, settings: Settings | None = None) -> list[str]:
    """Delete run ``tag``'s user (RabbitMQ closes its connections) and every vhost carrying the
    tag; returns what was removed."""
    settings = settings or get_settings()
    user = job_role(tag)
    removed = _rabbitmq(settings, _marker(tag))
    with _rabbitmq_admin(settings) as api:
        response = api.delete(f"/api/users/{user}")
        if response.status_code != 404:
            response.raise_for_status()
            removed.append(f"rabbitmq user {user}")
    return removed


# Every name a job's fixtures give Kafka starts with one of these, then its tag: t_<tag>_… topics,
# g_<tag>_… groups (unique_name). Its ACLs are PREFIXED on exactly those.
_KAFKA_NAME_PREFIXES: Final = ("t", "g")


def create_kafka_user(tag: str, settings: Settings | None = None) -> dict[str, str]:
    """Create run ``tag``'s SCRAM user on the broker's GRADING listener, allowed everything on the
    topics, groups and transactional ids named ``t_<tag>_…``/``g_<tag>_…`` and nothing else; return
    the job's environment (``KAFKA_BOOTSTRAP_SERVERS`` on that listener and the credentials
    :func:`reference.config.kafka_auth` hands to every client).

    First the cluster itself is closed: everyone keeps describing it (metadata, configs, the
    idempotent producer), but only the super user may alter it — create ACLs, SCRAM users or
    broker configs. Without that, anyone could grant themselves another job's topics.
    """
    from kafka.admin import (
        ACL,
        ACLOperation,
        ACLPermissionType,
        ACLResourcePatternType,
        ResourcePattern,
        ResourceType,
        ScramMechanism,
        UserScramCredentialUpsertion,
    )

    settings = settings or get_settings()
    user, password = job_role(tag), secrets.token_hex(16)
    cluster = ResourcePattern(ResourceType.CLUSTER, "kafka-cluster", ACLResourcePatternType.LITERAL)
    everyone = [
        ACL("User:*", "*", operation, ACLPermissionType.ALLOW, cluster)
        for operation in (
            ACLOperation.DESCRIBE,
            ACLOperation.DESCRIBE_CONFIGS,
            ACLOperation.IDEMPOTENT_WRITE,
        )
    ]
    own = [
        ACL(
            f"User:{user}",
            "*",
            ACLOperation.ALL,
            ACLPermissionType.ALLOW,
            ResourcePattern(kind, f"{prefix}_{tag}_", ACLResourcePatternType.PREFIXED),
        )
        for kind in (ResourceType.TOPIC, ResourceType.GROUP, ResourceType.TRANSACTIONAL_ID)
        for prefix in _KAFKA_NAME_PREFIXES
    ]
    admin = kafka_admin(settings)
    try:
        errors = admin.alter_user_scram_credentials(
            [UserScramCredentialUpsertion(user, ScramMechanism.SCRAM_SHA_256, password, 4096)]
        )
        if errors.get(user):
            raise RuntimeError(f"could not create Kafka user {user}: {errors[user]}")
        created = admin.create_acls(everyone + own)
        if created["failed"]:
            raise RuntimeError(f"could not create Kafka ACLs for {user}: {created['failed']}")
    finally:
        admin.close()
    return {
        "KAFKA_BOOTSTRAP_SERVERS": settings["KAFKA_GRADING_BOOTSTRAP_SERVERS"],
        "KAFKA_SASL_USERNAME": user,
        "KAFKA_SASL_PASSWORD": password,
    }


def drop_kafka_user(tag: str, settings: Settings | None = None) -> list[str]:
    """Delete run ``tag``'s topics and groups, its ACLs and its SCRAM user; returns what was removed."""
    from kafka.admin import (
        ACLFilter,
        ACLOperation,
        ACLPermissionType,
        ACLResourcePatternType,
        ResourcePatternFilter,
        ResourceType,
        ScramMechanism,
        UserScramCredentialDeletion,
    )

    settings = settings or get_settings()
    user = job_role(tag)
    removed = _kafka(settings, _marker(tag))
    admin = kafka_admin(settings)
    try:
        every = ResourcePatternFilter(ResourceType.ANY, None, ACLResourcePatternType.ANY)
        admin.delete_acls(
            [ACLFilter(f"User:{user}", None, ACLOperation.ANY, ACLPermissionType.ANY, every)]
        )
        errors = admin.alter_user_scram_credentials(
            [UserScramCredentialDeletion(user, ScramMechanism.SCRAM_SHA_256)]
        )
        if not errors.get(user):
            removed.append(f"kafka user {user}")
    finally:
        admin.close()
    return removed
