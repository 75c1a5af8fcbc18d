"""One configuration source: environment first, then the launcher's env file, then the defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from reference.config import (
    DEFAULTS,
    SERVER_VARIABLES,
    get_settings,
    read_env_file,
    to_sqlalchemy_url,
)


def test_defaults_apply_without_environment_or_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("COURSE_STATE_DIR", str(tmp_path))
    for name in DEFAULTS:
        monkeypatch.delenv(name, raising=False)
    settings = get_settings()
    assert settings.database_url == DEFAULTS["DATABASE_URL"]
    assert settings.url_for("kafka") == DEFAULTS["KAFKA_BOOTSTRAP_SERVERS"]


def test_env_file_overrides_defaults_and_environment_overrides_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("COURSE_STATE_DIR", str(tmp_path))
    for name in DEFAULTS:
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "env").write_text(
        "# comment\nREDIS_URL=redis://file:1/0\nAMQP_URL=amqp://file:2/%2F\nnot a pair\n"
    )
    monkeypatch.setenv("AMQP_URL", "amqp://env:3/%2F")
    settings = get_settings()
    assert settings.redis_url == "redis://file:1/0"
    assert settings.amqp_url == "amqp://env:3/%2F"
    assert settings.mongodb_url == DEFAULTS["MONGODB_URL"]


def test_missing_env_file_is_empty(tmp_path: Path) -> None:
    assert read_env_file(tmp_path / "nope") == {}


def test_every_server_has_a_variable_with_a_default() -> None:
    assert list(SERVER_VARIABLES) == [
        "postgres",
        "mongo",
        "redis",
        "kafka",
        "rabbitmq",
        "keycloak",
        "nginx",
        "etcd",
        "envoy",
        "prometheus",
        "alertmanager",
        "opensearch",
    ]
    assert set(SERVER_VARIABLES.values()) <= set(DEFAULTS)


def test_endpoints_are_parsed_once_for_every_url_shape() -> None:
    settings = get_settings()
    assert settings.endpoint("KAFKA_BOOTSTRAP_SERVERS").port == int(
        settings.kafka_bootstrap_servers.split(",")[0].rsplit(":", 1)[1]
    )
    amqp = settings.endpoint("AMQP_URL")
    assert (amqp.username, amqp.path) == ("course", "/")
    assert settings.endpoint("DATABASE_URL").path == "course"
    with pytest.raises(ValueError, match="names no port"):
        type(settings)({"X": "http://h/"}).endpoint("X")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u:p@h:1/d", "postgresql+psycopg://u:p@h:1/d"),
        ("postgres://u:p@h:1/d", "postgresql+psycopg://u:p@h:1/d"),
        ("postgresql+psycopg://u@h/d", "postgresql+psycopg://u@h/d"),
    ],
)
def test_sqlalchemy_url_names_psycopg3(url: str, expected: str) -> None:
    assert to_sqlalchemy_url(url) == expected
    assert get_settings().sqlalchemy_url.startswith("postgresql+psycopg://")
