"""reference.setup.connect: one client per server, from get_settings(), failing fast when down."""

from __future__ import annotations

import time

import pytest

from course.testing.fixtures import ensure_server
from reference.setup import connect
from reference.setup.ports import free_port


@pytest.fixture
def closed_port() -> int:
    return free_port()


def test_postgres_client_talks_to_the_course_server() -> None:
    ensure_server("postgres")
    with connect.postgres() as conn:
        row = conn.execute("SELECT current_user").fetchone()
        assert row is not None
        assert row[0] == "course"
        assert conn.autocommit


def test_mongo_client_pings() -> None:
    ensure_server("mongo")
    client = connect.mongo()
    try:
        assert client.admin.command("ping")["ok"] == 1
    finally:
        client.close()


def test_redis_client_decodes_strings(redis_client: object, redis_prefix: str) -> None:
    client = connect.redis_client()
    try:
        client.set(f"{redis_prefix}k", "v", ex=60)
        assert client.get(f"{redis_prefix}k") == "v"
    finally:
        client.close()


def test_kafka_admin_lists_the_broker() -> None:
    ensure_server("kafka")
    admin = connect.kafka_admin()
    try:
        assert len(admin.describe_cluster()["brokers"]) >= 1
    finally:
        admin.close()


def test_rabbitmq_connection_opens_a_channel(amqp_url: str) -> None:
    connection = connect.rabbitmq(amqp_url)
    try:
        assert connection.channel().is_open
    finally:
        connection.close()


@pytest.mark.parametrize(
    ("factory", "url"),
    [
        (connect.postgres, "postgresql://course:course@127.0.0.1:{port}/course"),
        (
            lambda url, timeout: connect.redis_client(url, timeout).ping(),
            "redis://127.0.0.1:{port}/0",
        ),
        (
            lambda url, timeout: connect.mongo(url, timeout).admin.command("ping"),
            "mongodb://127.0.0.1:{port}/?directConnection=true",
        ),
        (connect.kafka_admin, "127.0.0.1:{port}"),
        (connect.rabbitmq, "amqp://course:course@127.0.0.1:{port}/%2F"),
    ],
    ids=["postgres", "redis", "mongo", "kafka", "rabbitmq"],
)
def test_a_closed_port_fails_within_the_timeout(
    factory: object, url: str, closed_port: int
) -> None:
    """Every client gives up on a dead server after about its timeout instead of hanging."""
    started = time.monotonic()
    with pytest.raises(Exception):  # noqa: B017, PT011 - each library raises its own type
        factory(url.format(port=closed_port), 1.0)  # type: ignore[operator]
    assert time.monotonic() - started < 15


def test_keycloak_realm_takes_its_secrets_from_the_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Environment first, like every setting: a changed password or secret reaches the helper."""
    monkeypatch.setenv("KEYCLOAK_BOB_PASSWORD", "from-the-environment")
    monkeypatch.setenv("KEYCLOAK_WEB_SECRET", "web-from-the-environment")
    realm = connect.keycloak_realm("http://127.0.0.1:1/")
    assert realm.issuer == "http://127.0.0.1:1/realms/course"
    assert (
        realm.discovery_url == "http://127.0.0.1:1/realms/course/.well-known/openid-configuration"
    )
    assert realm.passwords["bob"] == "from-the-environment"
    assert realm.web_client_secret == "web-from-the-environment"
    assert set(realm.passwords) == {"alice", "bob", "admin"}
