"""`course check`, `verify` and `grade` start what the fixtures would start themselves — from the
command's own process. A server a grading run started (Keycloak, the heavy one) was killed with the
run's leftovers when the run ended, then started again by the next run: four Keycloak starts in one
`course verify 03.4`, and Keycloak down for the next stage of CI."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from course.harness.learner import reachable_or_started
from reference.config import get_settings


def test_a_server_that_may_be_started_is_started_by_the_command_and_stays_up(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COURSE_AUTOSTART", "1")
    out = io.StringIO()
    assert reachable_or_started(Console(file=out, width=200), ["redis"]) == {}
    assert "starting redis (needed by these exercises)" in out.getvalue()
    # Started in the launcher's state folder, by this process: it is still up afterwards.
    assert (isolated_env / "redis" / "server.pid").is_file()
    assert reachable_or_started(Console(file=io.StringIO()), ["redis"]) == {}


def test_under_autostart_0_only_heavy_servers_are_started_and_the_rest_reported(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COURSE_AUTOSTART", "0")
    out = io.StringIO()
    down = reachable_or_started(Console(file=out, width=200), ["redis"])
    assert list(down) == ["redis"]
    assert down["redis"].url == get_settings().url_for("redis")
    assert "starting" not in out.getvalue()
    assert not (isolated_env / "redis" / "server.pid").exists()


def test_never_starts_nothing(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COURSE_AUTOSTART", "never")
    assert list(reachable_or_started(Console(file=io.StringIO()), ["redis", "keycloak"])) == [
        "redis",
        "keycloak",
    ]
