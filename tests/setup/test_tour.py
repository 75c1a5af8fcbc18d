"""reference.setup.tour: one write-then-read round trip per server, leaving nothing behind."""

from __future__ import annotations

from collections.abc import Callable

import pymongo
import redis

from course.testing.fixtures import ensure_server
from reference.setup import connect, tour


def test_postgres_round_trip(pg_url: str) -> None:
    trip = tour.postgres(pg_url)
    assert trip.server == "postgres"
    assert trip.ok
    assert trip.rtt_ms > 0
    with connect.postgres(pg_url) as conn:  # the temporary table died with the connection
        row = conn.execute("SELECT to_regclass('tour')").fetchone()
        assert row == (None,)


def test_mongo_round_trip(mongo_db: pymongo.database.Database[dict[str, object]]) -> None:
    trip = tour.mongo(database=mongo_db.name)
    assert trip.ok
    assert trip.operation == "insert/find"
    assert mongo_db["tour"].count_documents({}) == 0


def test_redis_round_trip(redis_client: redis.Redis, redis_prefix: str) -> None:
    trip = tour.redis(prefix=redis_prefix)
    assert trip.ok
    assert trip.sent != ""
    assert list(redis_client.scan_iter(match=redis_prefix + "*")) == []


def test_kafka_round_trip_uses_and_deletes_its_own_topic(kafka_topic: Callable[..., str]) -> None:
    ensure_server("kafka")
    trip = tour.kafka(topic_prefix="t_tour")
    assert trip.ok
    admin = connect.kafka_admin()
    try:
        assert f"t_tour_{trip.sent}" not in admin.list_topics()
    finally:
        admin.close()


def test_rabbitmq_round_trip(amqp_url: str) -> None:
    trip = tour.rabbitmq(amqp_url)
    assert trip.ok
    assert trip.received == trip.sent


def test_round_trips_are_listed_in_server_order() -> None:
    assert list(tour.ROUND_TRIPS) == ["postgres", "mongo", "redis", "kafka", "rabbitmq"]


def test_a_round_trip_is_ok_only_when_the_value_came_back() -> None:
    assert not tour.RoundTrip("redis", "set/get", "a", "b", 1.0).ok
