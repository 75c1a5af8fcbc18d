"""Where the course's servers are: the one configuration source for notebooks, tests and the launcher.

Every server is addressed by one environment variable. Defaults match ``docker-compose.yml`` and the
native launcher (``course services up``); an env file written by the launcher (``.services/env``) is
read as a fallback so a fresh shell or notebook kernel finds the same values the launcher used.
The course uses non-default ports so it never collides with servers you already run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final

REPO_ROOT: Final = Path(__file__).resolve().parent.parent


def state_dir() -> Path:
    """Where the launcher keeps server state and the env file (``$COURSE_STATE_DIR`` or ``.services``)."""
    return Path(os.environ.get("COURSE_STATE_DIR") or REPO_ROOT / ".services")


# Variable name -> default. The order is the order servers are listed everywhere.
DEFAULTS: Final[dict[str, str]] = {
    "DATABASE_URL": "postgresql://course:course@127.0.0.1:15432/course",
    "MONGODB_URL": "mongodb://127.0.0.1:17017/?directConnection=true",
    "REDIS_URL": "redis://:course@127.0.0.1:16379/0",
    "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:19092",
    "AMQP_URL": "amqp://course:course@127.0.0.1:16672/%2F",
    # Not a server of its own: RabbitMQ's management HTTP API (vhosts for test isolation, queue depths).
    "RABBITMQ_MANAGEMENT_URL": "http://course:course@127.0.0.1:16673",
}

SERVER_VARIABLES: Final[dict[str, str]] = {
    "postgres": "DATABASE_URL",
    "mongo": "MONGODB_URL",
    "redis": "REDIS_URL",
    "kafka": "KAFKA_BOOTSTRAP_SERVERS",
    "rabbitmq": "AMQP_URL",
}


@dataclass(frozen=True)
class Settings:
    """The URLs of the five servers, resolved from the environment."""

    database_url: str
    mongodb_url: str
    redis_url: str
    kafka_bootstrap_servers: str
    amqp_url: str
    rabbitmq_management_url: str

    def url_for(self, server: str) -> str:
        """The URL of one server by its launcher name (``postgres``, ``mongo`` …)."""
        return {
            "postgres": self.database_url,
            "mongo": self.mongodb_url,
            "redis": self.redis_url,
            "kafka": self.kafka_bootstrap_servers,
            "rabbitmq": self.amqp_url,
        }[server]

    @property
    def sqlalchemy_url(self) -> str:
        """``DATABASE_URL`` with the psycopg 3 driver named, as SQLAlchemy wants it."""
        return to_sqlalchemy_url(self.database_url)


def to_sqlalchemy_url(url: str) -> str:
    """Name the psycopg 3 driver in a ``postgresql://`` URL (SQLAlchemy defaults to psycopg2)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def read_env_file(path: Path | None = None) -> dict[str, str]:
    """Parse ``KEY=VALUE`` lines of the launcher's env file; a missing file is an empty mapping."""
    path = path or state_dir() / "env"
    if not path.exists():
        return {}
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def get_settings() -> Settings:
    """Resolve every server URL: environment first, then the launcher's env file, then defaults."""
    file_values = read_env_file()

    def pick(name: str) -> str:
        return os.environ.get(name) or file_values.get(name) or DEFAULTS[name]

    return Settings(
        database_url=pick("DATABASE_URL"),
        mongodb_url=pick("MONGODB_URL"),
        redis_url=pick("REDIS_URL"),
        kafka_bootstrap_servers=pick("KAFKA_BOOTSTRAP_SERVERS"),
        amqp_url=pick("AMQP_URL"),
        rabbitmq_management_url=pick("RABBITMQ_MANAGEMENT_URL"),
    )
