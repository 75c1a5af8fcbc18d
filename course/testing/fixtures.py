"""Pytest fixtures for real servers: make sure each is up, then isolate every test from the others.

Loaded for every test run through the root ``conftest.py``. Each test gets its own PostgreSQL database,
MongoDB database, Redis key prefix, Kafka topic names and RabbitMQ vhost, removed afterwards, so the suite
runs twice in a row and under ``pytest -n 2``. The names (:func:`course.testing.resources.unique_name`)
carry a grading run's tag, so the runner can remove what a run stopped before teardown left behind. A
server that cannot be reached fails the test with a message naming the server, its URL and the command
that starts it — never a silent skip.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit, urlunsplit

import pytest

from course.harness.loader import PROBED_VARIABLE
from course.services.autostart import may_start
from course.testing.resources import JOB_VHOSTS_VARIABLE, unique_name
from reference.config import Settings, get_settings, kafka_auth, to_sqlalchemy_url
from reference.setup import servers as registry

# Each fixture imports its client library itself: this plugin is loaded by every grading subprocess,
# and an exercise that needs one server (or none) should not wait for all five clients and SQLAlchemy.
if TYPE_CHECKING:
    import httpx
    import pymongo
    import redis
    from sqlalchemy import Engine

    from reference.setup.connect import CourseRealm

_checked: dict[str, str | None] = {}


def ensure_server(name: str) -> None:
    """Fail the calling test unless server ``name`` answers, starting it first unless told not to.

    ``COURSE_AUTOSTART=0`` turns starting off for the servers ``./dev`` starts up front (CI wants a
    failure, not a silent start, if one dies mid-run). A heavy server (the registry's ``heavy``:
    Keycloak) is never started up front by ``./dev test``, so the first test that needs it starts
    it — once per run, and not at all when no collected test needs it — unless
    ``COURSE_AUTOSTART=never``. The outcome is cached per process. A server that ``course check``
    named in ``$COURSE_SERVERS_PROBED`` answered its probe a moment ago and is not probed again.
    """
    if name not in _checked:
        probed = os.environ.get(PROBED_VARIABLE, "").split(",")
        _checked[name] = None if name in probed else _check_or_start(name)
    problem = _checked[name]
    if problem is not None:
        pytest.fail(problem, pytrace=False)


def _check_or_start(name: str) -> str | None:
    url = get_settings().url_for(name)
    try:
        registry.probe(name, url, 3.0)
        return None
    except Exception as first_error:  # noqa: BLE001 — any failure means "not reachable"
        error: BaseException = first_error
    if may_start(name):
        try:
            from course.services.launcher import Launcher

            Launcher().up([name])
            registry.probe(name, url, 3.0)
            return None
        except Exception as start_error:  # noqa: BLE001
            error = start_error
    return (
        f"{name} is not reachable at {url} ({type(error).__name__}: {error}).\n"
        f"Start it with:  course services up {name}"
    )


@pytest.fixture(scope="session")
def settings() -> Settings:
    return get_settings()


# --- PostgreSQL ------------------------------------------------------------------------------


def _with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + database))


@pytest.fixture
def pg_url(settings: Settings) -> Iterator[str]:
    """A ``postgresql://`` URL of a fresh, empty database dropped after the test."""
    import psycopg
    from psycopg import sql

    ensure_server("postgres")
    database = unique_name("t")
    with psycopg.connect(settings.database_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    try:
        yield _with_database(settings.database_url, database)
    finally:
        with psycopg.connect(settings.database_url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
            )


@pytest.fixture
def pg_engine(pg_url: str) -> Iterator[Engine]:
    """A SQLAlchemy engine (psycopg 3) on the test's own database."""
    from sqlalchemy import create_engine

    engine = create_engine(to_sqlalchemy_url(pg_url))
    try:
        yield engine
    finally:
        engine.dispose()


# --- MongoDB ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def mongo_client(settings: Settings) -> Iterator[pymongo.MongoClient[dict[str, object]]]:
    import pymongo

    ensure_server("mongo")
    client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(
        settings.mongodb_url, serverSelectionTimeoutMS=5000
    )
    yield client
    client.close()


@pytest.fixture
def mongo_db(
    mongo_client: pymongo.MongoClient[dict[str, object]],
) -> Iterator[pymongo.database.Database[dict[str, object]]]:
    """A MongoDB database of the test's own, dropped afterwards."""
    name = unique_name("t")
    yield mongo_client[name]
    mongo_client.drop_database(name)


@pytest.fixture(scope="session")
def mongo_is_genuine(settings: Settings) -> bool:
    from reference.setup.probes import mongo_is_genuine as check

    ensure_server("mongo")
    return check(settings.mongodb_url)


@pytest.fixture(autouse=True)
def _genuine_mongodb_only(request: pytest.FixtureRequest) -> None:
    """Skip ``@pytest.mark.genuine_mongodb`` tests on the compatible server, saying what they need."""
    marker = request.node.get_closest_marker("genuine_mongodb")
    if marker is None:
        return
    if not request.getfixturevalue("mongo_is_genuine"):
        reason = marker.kwargs.get("reason") or (marker.args[0] if marker.args else "")
        pytest.skip(
            f"needs genuine MongoDB (docker compose up mongo): {reason}; "
            "the native compatible server lacks it"
        )


# --- Redis -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_client(settings: Settings) -> Iterator[redis.Redis]:
    import redis

    ensure_server("redis")
    client = redis.Redis.from_url(settings.redis_url, decode_responses=True)
    yield client
    client.close()


@pytest.fixture
def redis_prefix(redis_client: redis.Redis) -> Iterator[str]:
    """A key prefix (``t_ab12…:``) owned by this test; every key under it is deleted afterwards."""
    prefix = unique_name("t") + ":"
    yield prefix
    keys = list(redis_client.scan_iter(match=prefix + "*", count=1000))
    if keys:
        redis_client.delete(*keys)


# --- Kafka -----------------------------------------------------------------------------------


@pytest.fixture
def kafka_topic(settings: Settings) -> Iterator[Callable[..., str]]:
    """A factory of fresh topics (``new_topic(partitions=1)``), all deleted after the test."""
    ensure_server("kafka")
    from kafka.admin import KafkaAdminClient, NewTopic

    bootstrap = settings.kafka_bootstrap_servers
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, **kafka_auth())
    created: list[str] = []

    def new_topic(partitions: int = 1, prefix: str = "t") -> str:
        name = unique_name(prefix)
        admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)])
        created.append(name)
        return name

    try:
        yield new_topic
    finally:
        if created:
            admin.delete_topics(created)
        admin.close()


# --- RabbitMQ --------------------------------------------------------------------------------


def _management_client(settings: Settings) -> httpx.Client:
    """An HTTP client for RabbitMQ's management API, credentials taken out of the URL."""
    import httpx

    parts = urlsplit(settings.rabbitmq_management_url)
    base = f"{parts.scheme}://{parts.hostname}:{parts.port or 15672}"
    return httpx.Client(
        base_url=base, auth=(parts.username or "", parts.password or ""), timeout=10
    )


# One grading job is one process: its tests take the vhosts made for it in turn.
_job_vhosts_taken = itertools.count()


def _next_job_vhost(names: str) -> str | None:
    """The next unused vhost of those a grading parent made for this job (None: all used)."""
    vhosts = names.split(",")
    index = next(_job_vhosts_taken)
    return vhosts[index] if index < len(vhosts) else None


@pytest.fixture
def amqp_url(settings: Settings) -> Iterator[str]:
    """An AMQP URL on a vhost of the test's own, deleted (with its queues) afterwards.

    In a grading job (``course grade``) the job's RabbitMQ user may not create vhosts: the parent
    made one per expected test, which the job takes in turn and the parent deletes afterwards
    (:func:`course.testing.resources.create_rabbitmq_user`).
    """
    ensure_server("rabbitmq")
    made_for_job = os.environ.get(JOB_VHOSTS_VARIABLE)
    if made_for_job is not None:
        vhost = _next_job_vhost(made_for_job)
        if vhost is None:
            pytest.fail("this grading job has used every RabbitMQ vhost made for it", pytrace=False)
        yield urlunsplit(urlsplit(settings.amqp_url)._replace(path="/" + quote(vhost, safe="")))
        return
    vhost = unique_name("t")
    user = urlsplit(settings.amqp_url).username or "guest"
    with _management_client(settings) as api:
        api.put(f"/api/vhosts/{vhost}").raise_for_status()
        api.put(
            f"/api/permissions/{vhost}/{user}",
            json={"configure": ".*", "write": ".*", "read": ".*"},
        ).raise_for_status()
        try:
            yield urlunsplit(urlsplit(settings.amqp_url)._replace(path="/" + quote(vhost, safe="")))
        finally:
            api.delete(f"/api/vhosts/{vhost}")


# --- Keycloak --------------------------------------------------------------------------------

# Fixtures that start a heavy server on demand. The first test to use one waits for the start (on a
# clean machine: download, build and first start, minutes on a loaded 2-core CI machine) inside its
# own time limit, so each such test gets a limit that covers it.
HEAVY_FIXTURES = frozenset({"keycloak_realm"})
HEAVY_START_TIMEOUT_S = 900


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        uses_heavy = HEAVY_FIXTURES & set(getattr(item, "fixturenames", ()))
        if uses_heavy and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(HEAVY_START_TIMEOUT_S))


@pytest.fixture(scope="session")
def keycloak_realm(settings: Settings) -> CourseRealm:
    """The course realm on a running Keycloak (started on demand: the first test that asks pays
    for the start, minutes on a clean machine; a run collecting no such test never starts it)."""
    from reference.setup.connect import keycloak_realm as realm

    ensure_server("keycloak")
    return realm(settings.keycloak_url)
