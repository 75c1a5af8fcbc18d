"""``course services`` as a user sees it: tables, exit codes and one-line errors, never tracebacks."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from course.cli import app

runner = CliRunner()
pytestmark = pytest.mark.xdist_group("launcher")


def test_status_of_healthy_servers_exits_zero(isolated_env: Path) -> None:
    result = runner.invoke(app, ["services", "up", "redis"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["services", "status", "redis"])
    assert result.exit_code == 0, result.output
    assert "Redis" in result.output
    assert "7.0" in result.output
    assert "native" in result.output


def test_status_exits_non_zero_naming_the_unhealthy_server(isolated_env: Path) -> None:
    result = runner.invoke(app, ["services", "status", "redis"])
    assert result.exit_code == 1
    assert "unhealthy: redis" in result.output
    assert "course services up redis" in result.output


def test_unknown_name_is_a_clear_error(isolated_env: Path) -> None:
    result = runner.invoke(app, ["services", "up", "mysql"])
    assert result.exit_code == 1
    assert "unknown server 'mysql'" in result.output
    assert (
        "valid names are: postgres, mongo, redis, kafka, rabbitmq, keycloak, nginx, etcd, envoy, prometheus, alertmanager, opensearch"
        in result.output
    )
    assert "Traceback" not in result.output


def test_down_logs_and_reset_commands(isolated_env: Path) -> None:
    assert runner.invoke(app, ["services", "up", "redis"]).exit_code == 0
    logs = runner.invoke(app, ["services", "logs", "redis", "-n", "200"])
    assert "Ready to accept connections" in logs.output
    reset = runner.invoke(app, ["services", "reset", "redis", "--yes"])
    assert reset.exit_code == 0, reset.output
    assert "reset: redis" in reset.output
    down = runner.invoke(app, ["services", "down", "redis"])
    assert "stopped: redis" in down.output
    again = runner.invoke(app, ["services", "down", "redis"])
    assert "nothing of ours was running" in again.output


def test_reset_asks_first(isolated_env: Path) -> None:
    result = runner.invoke(app, ["services", "reset", "redis"], input="n\n")
    assert result.exit_code == 1
    assert "Wipe all data of redis?" in result.output


def test_an_unknown_chapter_is_a_clear_error(isolated_env: Path) -> None:
    result = runner.invoke(app, ["services", "up", "--chapter", "42"])
    assert result.exit_code == 1
    assert "no chapter 42 in this checkout; chapters so far: 00" in result.output
    assert "Traceback" not in result.output


def test_status_of_a_chapter_names_only_its_servers(isolated_env: Path) -> None:
    """Chapter 03 needs Redis and Keycloak; on the isolated (unused) ports both are reported down."""
    result = runner.invoke(app, ["services", "status", "--chapter", "03"])
    assert result.exit_code == 1
    assert "course services up redis keycloak" in result.output
    assert "postgres" not in result.output


def test_up_without_heavy_servers_leaves_keycloak_alone(isolated_env: Path) -> None:
    """`./dev test` starts the chapters' light servers up front and leaves Keycloak to its tests."""
    result = runner.invoke(app, ["services", "up", "--chapter", "03", "--no-heavy"])
    assert result.exit_code == 0, result.output
    assert "redis: healthy" in result.output
    assert "keycloak" not in result.output
