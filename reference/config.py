"""Where the course's servers are: the one configuration source for notebooks, tests and the launcher.

Every server is addressed by one environment variable; the variables and their defaults come from the
server registry (``reference/setup/servers.py``). Defaults match ``docker-compose.yml`` and the
native launcher (``course services up``); an env file written by the launcher (``.services/env``) is
read as a fallback so a fresh shell or notebook kernel finds the same values the launcher used.
The course uses non-default ports so it never collides with servers you already run.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Final
from urllib.parse import unquote, urlsplit

from reference.setup.servers import REGISTRY

REPO_ROOT: Final = Path(__file__).resolve().parent.parent


def state_dir() -> Path:
    """Where the launcher keeps server state and the env file (``$COURSE_STATE_DIR`` or ``.services``)."""
    return Path(os.environ.get("COURSE_STATE_DIR") or REPO_ROOT / ".services")


# Variable name -> default, from the server registry: each server's URL variable, then its extra
# settings. The order is the order servers are listed everywhere.
DEFAULTS: Final[Mapping[str, str]] = MappingProxyType(
    {
        name: value
        for entry in REGISTRY
        for name, value in {entry.variable: entry.default, **entry.extra}.items()
    }
)

SERVER_VARIABLES: Final[Mapping[str, str]] = MappingProxyType(
    {entry.name: entry.variable for entry in REGISTRY}
)
"""Launcher server name -> the variable holding its URL."""


@dataclass(frozen=True)
class Endpoint:
    """A server URL taken apart once, for whoever binds or connects to it."""

    host: str
    port: int
    username: str
    password: str
    path: str  # without its leading "/": a database name, a Redis db number, a vhost


@dataclass(frozen=True)
class Settings:
    """Every setting in :data:`DEFAULTS`, resolved from the environment, the env file and defaults."""

    values: Mapping[str, str]

    def __getitem__(self, variable: str) -> str:
        return self.values[variable]

    def url_for(self, server: str) -> str:
        """The URL of one server by its launcher name (``postgres``, ``mongo`` …)."""
        return self.values[SERVER_VARIABLES[server]]

    def endpoint(self, variable: str) -> Endpoint:
        """Host, port and credentials of one setting's URL (a bare ``host:port`` list too: its first)."""
        url = self.values[variable]
        if "://" not in url:  # Kafka's bootstrap list: "127.0.0.1:19092,…"
            url = "tcp://" + url.split(",")[0]
        parts = urlsplit(url)
        if parts.port is None:
            raise ValueError(f"{variable}={url!r} names no port")
        return Endpoint(
            parts.hostname or "127.0.0.1",
            parts.port,
            unquote(parts.username or ""),
            unquote(parts.password or ""),
            unquote(parts.path.lstrip("/")),
        )

    @property
    def database_url(self) -> str:
        return self.values["DATABASE_URL"]

    @property
    def mongodb_url(self) -> str:
        return self.values["MONGODB_URL"]

    @property
    def redis_url(self) -> str:
        return self.values["REDIS_URL"]

    @property
    def kafka_bootstrap_servers(self) -> str:
        return self.values["KAFKA_BOOTSTRAP_SERVERS"]

    @property
    def amqp_url(self) -> str:
        return self.values["AMQP_URL"]

    @property
    def rabbitmq_management_url(self) -> str:
        return self.values["RABBITMQ_MANAGEMENT_URL"]

    @property
    def keycloak_url(self) -> str:
        return self.values["KEYCLOAK_URL"]

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


KAFKA_SASL_VARIABLES: Final = ("KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD")
"""Set by ``course grade`` for one job: its SCRAM user on the broker's grading listener."""


def kafka_auth() -> dict[str, str]:
    """The SASL options every Kafka client of the course passes: none on the open listener; inside a
    ``course grade`` job (which points ``KAFKA_BOOTSTRAP_SERVERS`` at the broker's grading listener
    and sets :data:`KAFKA_SASL_VARIABLES`), SCRAM-SHA-256 as that job's own user."""
    username, password = (os.environ.get(name, "") for name in KAFKA_SASL_VARIABLES)
    if not username:
        return {}
    return {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-256",
        "sasl_plain_username": username,
        "sasl_plain_password": password,
    }


def get_settings() -> Settings:
    """Resolve every setting: environment first, then the launcher's env file, then defaults."""
    file_values = read_env_file()
    return Settings(
        MappingProxyType(
            {
                name: os.environ.get(name) or file_values.get(name) or default
                for name, default in DEFAULTS.items()
            }
        )
    )
