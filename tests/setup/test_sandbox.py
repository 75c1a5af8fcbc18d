"""reference.sandbox: a notebook's named sandbox comes back empty on every run, on the real servers.

Notebooks call these at the top so they run twice in a row and beside each other; each test here
runs one twice with data written in between and checks the second run found nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import psycopg
import pymongo
import pytest
from psycopg import sql

from course.testing.fixtures import ensure_server
from course.testing.resources import unique_name
from reference.config import get_settings
from reference.sandbox import fresh_mongo_database, fresh_postgres_database, fresh_redis_prefix


@pytest.fixture
def name() -> str:
    return unique_name("nb_test")


@pytest.fixture
def postgres_name(name: str) -> Iterator[str]:
    ensure_server("postgres")
    yield name
    with psycopg.connect(get_settings().database_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def test_fresh_postgres_database_is_recreated_empty(postgres_name: str) -> None:
    url = fresh_postgres_database(postgres_name)
    assert urlsplit(url).path == f"/{postgres_name}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE left_over (id int)")
        # An open session must not stop the next run: the drop is WITH (FORCE).
        assert fresh_postgres_database(postgres_name) == url
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_tables WHERE tablename = 'left_over'"
        ).fetchone()
        assert row == (0,)


def test_fresh_mongo_database_is_dropped(name: str) -> None:
    ensure_server("mongo")
    database = fresh_mongo_database(name)
    try:
        database["things"].insert_one({"n": 1})
        again = fresh_mongo_database(name)
        assert again.name == name
        assert again["things"].count_documents({}) == 0
    finally:
        client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(
            get_settings().mongodb_url
        )
        client.drop_database(name)
        client.close()


def test_fresh_redis_prefix_deletes_only_its_own_keys(name: str) -> None:
    ensure_server("redis")
    client, prefix = fresh_redis_prefix(name)
    neighbour = f"{name}_other:key"
    try:
        assert prefix == f"{name}:"
        client.set(prefix + "a", "1")
        client.set(prefix + "b", "2")
        client.set(neighbour, "kept")
        again, same = fresh_redis_prefix(name)
        assert same == prefix
        assert list(again.scan_iter(match=prefix + "*")) == []
        assert again.get(neighbour) == "kept"  # a prefix is not a pattern over other names
        fresh_redis_prefix(name)  # nothing to delete: still fine
    finally:
        client.delete(neighbour, prefix + "a", prefix + "b")
        client.close()
