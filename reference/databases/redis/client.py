"""One way to get a Redis client: from the configured URL, with auth and TLS when the URL says so.

The guide built ``new Redis({ host: process.env.REDIS_HOST, port: 6379 })``: a hard-coded port, no
password, no TLS. Here the URL (``REDIS_URL``, see :mod:`reference.config`) carries all three —
``redis://:password@host:port/db`` or ``rediss://…`` for TLS — and connections fail fast instead of
hanging. Taught in ``notebooks/02_databases_redis.ipynb``.
"""

from __future__ import annotations

import redis

from reference.config import get_settings


def connect(url: str | None = None, *, timeout_seconds: float = 5.0) -> redis.Redis:
    """A client for ``url`` (default: the configured ``REDIS_URL``) that decodes replies to str."""
    return redis.Redis.from_url(
        url or get_settings().redis_url,
        decode_responses=True,
        socket_connect_timeout=timeout_seconds,
        socket_timeout=timeout_seconds,
        health_check_interval=30,
    )
