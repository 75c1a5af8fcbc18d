"""Per-notebook sandboxes on the shared servers, so notebooks run in parallel and twice in a row.

Each notebook names its own sandbox (``"nb_01_api_design_rest"``) and gets it back empty on every run.
Tests use the per-test fixtures in ``course.testing.fixtures`` instead.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import psycopg
import pymongo
import redis
from psycopg import sql

from reference.config import get_settings


def fresh_postgres_database(name: str) -> str:
    """Drop and recreate database ``name``; return its ``postgresql://`` URL."""
    admin_url = get_settings().database_url
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return urlunsplit(urlsplit(admin_url)._replace(path="/" + name))


def fresh_mongo_database(name: str) -> pymongo.database.Database[dict[str, object]]:
    """Drop MongoDB database ``name`` and return a handle to it (created on first write)."""
    client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(get_settings().mongodb_url)
    client.drop_database(name)
    return client[name]


def fresh_redis_prefix(name: str) -> tuple[redis.Redis, str]:
    """Delete every key under ``name:`` and return a client plus that prefix."""
    client = redis.Redis.from_url(get_settings().redis_url, decode_responses=True)
    prefix = f"{name}:"
    keys = list(client.scan_iter(match=prefix + "*", count=1000))
    if keys:
        client.delete(*keys)
    return client, prefix
