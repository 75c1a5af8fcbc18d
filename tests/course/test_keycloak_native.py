"""The native Keycloak's state handling, without starting it: which home it runs in, when the course
realm is imported, and which options reach the JVM."""

from __future__ import annotations

from pathlib import Path

import pytest

from course.services.native.keycloak import REALM_FILE, KeycloakServer, dist_dir
from reference.config import Settings, get_settings


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> KeycloakServer:
    monkeypatch.setenv("COURSE_STATE_DIR", str(tmp_path))
    return KeycloakServer(get_settings())


def with_setting(server: KeycloakServer, name: str, value: str) -> KeycloakServer:
    return KeycloakServer(Settings({**server.settings.values, name: value}))


def test_ports_come_from_the_parsed_url() -> None:
    server = KeycloakServer(Settings({**get_settings().values, "KEYCLOAK_URL": "http://h:28080"}))
    assert server.ports == (28080, 28081)


def test_first_start_imports_then_restarts_skip_the_import(server: KeycloakServer) -> None:
    assert server.prepare_home() is True
    home = server.paths().root
    assert (
        server.paths().data / "import" / REALM_FILE.name
    ).read_bytes() == REALM_FILE.read_bytes()
    assert (home / "lib").readlink() == dist_dir() / "lib"
    (server.paths().data / "h2").mkdir()  # what Keycloak's first start leaves behind
    assert server.prepare_home() is False
    assert (server.paths().data / "h2").is_dir()


def test_a_changed_secret_wipes_the_database_and_imports_again(server: KeycloakServer) -> None:
    server.prepare_home()
    (server.paths().data / "h2").mkdir()
    changed = with_setting(server, "KEYCLOAK_ALICE_PASSWORD", "another one")
    assert changed.prepare_home() is True
    assert not (server.paths().data / "h2").exists()


def test_the_realm_secrets_reach_keycloak_and_the_start_maps_its_class_archive(
    server: KeycloakServer,
) -> None:
    environment = with_setting(server, "KEYCLOAK_BOB_PASSWORD", "b0b").realm_environment()
    assert environment["KEYCLOAK_BOB_PASSWORD"] == "b0b"
    assert environment["KC_BOOTSTRAP_ADMIN_PASSWORD"] == server.settings["KEYCLOAK_MASTER_PASSWORD"]
    assert "KEYCLOAK_URL" not in environment
    command = server.java_command(server.paths().root, "start")
    assert f"-Dkc.home.dir={server.paths().root}" in command
    assert any(arg.startswith("-XX:") and "keycloak.jsa" in arg for arg in command)
