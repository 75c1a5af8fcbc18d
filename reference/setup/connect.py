"""One function per server that returns a connected client, configured from ``get_settings()``.

Pattern: a single configuration source (``reference.config``) and explicit timeouts on every client, so
a server that is down fails fast with the client's own error instead of hanging. Taught in
``notebooks/00_setup.ipynb``. Each function takes an optional URL (default: the course's server) and a
timeout in seconds; the caller closes what it gets.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pika
import psycopg
import pymongo
import redis
from kafka import KafkaConsumer, KafkaProducer
from kafka.admin import KafkaAdminClient

from reference.config import get_settings, kafka_auth
from reference.setup.probes import KEYCLOAK_REALM

DEFAULT_TIMEOUT = 5.0


def postgres(url: str | None = None, timeout: float = DEFAULT_TIMEOUT) -> psycopg.Connection[Any]:
    """A psycopg 3 connection in autocommit mode (libpq counts its timeout in whole seconds, min 2)."""
    return psycopg.connect(
        url or get_settings().database_url,
        connect_timeout=max(2, round(timeout)),
        autocommit=True,
    )


def mongo(
    url: str | None = None, timeout: float = DEFAULT_TIMEOUT
) -> pymongo.MongoClient[dict[str, Any]]:
    """A PyMongo client that gives up selecting a server after ``timeout`` seconds."""
    ms = int(timeout * 1000)
    return pymongo.MongoClient(
        url or get_settings().mongodb_url,
        serverSelectionTimeoutMS=ms,
        connectTimeoutMS=ms,
        socketTimeoutMS=ms,
    )


def redis_client(url: str | None = None, timeout: float = DEFAULT_TIMEOUT) -> redis.Redis:
    """A Redis client returning ``str`` values, with connect and socket timeouts."""
    return redis.Redis.from_url(
        url or get_settings().redis_url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        decode_responses=True,
    )


def _kafka_options(bootstrap: str | None, timeout: float) -> dict[str, Any]:
    ms = int(timeout * 1000)
    bootstrap = bootstrap or get_settings().kafka_bootstrap_servers
    return {
        "bootstrap_servers": bootstrap,
        **kafka_auth(),
        "request_timeout_ms": ms,
        "bootstrap_timeout_ms": ms,
    }


def kafka_admin(bootstrap: str | None = None, timeout: float = DEFAULT_TIMEOUT) -> KafkaAdminClient:
    """A Kafka admin client (create, list and delete topics)."""
    return KafkaAdminClient(**_kafka_options(bootstrap, timeout))


def kafka_producer(bootstrap: str | None = None, timeout: float = DEFAULT_TIMEOUT) -> KafkaProducer:
    """A Kafka producer that waits for every in-sync replica (``acks="all"``)."""
    return KafkaProducer(
        acks="all", max_block_ms=int(timeout * 1000), **_kafka_options(bootstrap, timeout)
    )


def kafka_consumer(bootstrap: str | None = None, timeout: float = DEFAULT_TIMEOUT) -> KafkaConsumer:
    """A Kafka consumer with no group: the caller assigns partitions and seeks itself."""
    return KafkaConsumer(
        enable_auto_commit=False, group_id=None, **_kafka_options(bootstrap, timeout)
    )


def rabbitmq(url: str | None = None, timeout: float = DEFAULT_TIMEOUT) -> pika.BlockingConnection:
    """A blocking pika connection that tries once and times out instead of retrying forever."""
    parameters = pika.URLParameters(url or get_settings().amqp_url)
    parameters.socket_timeout = timeout
    parameters.stack_timeout = timeout
    parameters.blocked_connection_timeout = timeout
    parameters.connection_attempts = 1
    return pika.BlockingConnection(parameters)


@dataclass(frozen=True)
class CourseRealm:
    """Where the course realm lives in Keycloak, and the credentials of its clients and users.

    The realm is ``course/services/native/keycloak/course-realm.json``: ``course-web`` (confidential,
    authorization code + PKCE S256 required), ``course-spa`` (public, PKCE), ``course-service``
    (client credentials), users ``alice`` (role user), ``bob`` (manager, includes user) and
    ``admin`` (admin, includes manager). Redirect URIs: any ``http://127.0.0.1…`` or
    ``http://localhost…`` address.
    """

    issuer: str
    web_client_secret: str
    service_client_secret: str
    passwords: Mapping[str, str]  # username -> password
    web_client_id: str = "course-web"
    spa_client_id: str = "course-spa"
    service_client_id: str = "course-service"

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"


def keycloak_realm(url: str | None = None) -> CourseRealm:
    """The course realm at ``url`` (default ``KEYCLOAK_URL``), with the secrets from the settings."""
    settings = get_settings()
    base = (url or settings.keycloak_url).rstrip("/")
    return CourseRealm(
        issuer=f"{base}/realms/{KEYCLOAK_REALM}",
        web_client_secret=settings["KEYCLOAK_WEB_SECRET"],
        service_client_secret=settings["KEYCLOAK_SERVICE_SECRET"],
        passwords={
            user: settings[f"KEYCLOAK_{user.upper()}_PASSWORD"]
            for user in ("alice", "bob", "admin")
        },
    )
