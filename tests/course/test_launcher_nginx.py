"""The launcher runs nginx like any other server: up (healthy, native, probed), caching in front of
its origin, stopped behind its back (SIGTERM) → status names it → up restores it, down stops it; nothing outside its state folder.

Runs on ports of its own (an isolated state folder, ``isolated_env``), with a counting origin on the
``CACHE_ORIGIN_PORT`` it is told, so the shared course nginx is never touched.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest
from typer.testing import CliRunner

from course.cli import app
from course.services.launcher import Launcher
from reference.caching.origin import CountingOrigin, counting_origin
from reference.setup.ports import free_port

pytestmark = [pytest.mark.xdist_group("launcher")]


@pytest.fixture
def nginx_env(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CountingOrigin]:
    monkeypatch.setenv("CACHE_PROXY_URL", f"http://127.0.0.1:{free_port()}")
    with counting_origin() as origin:
        monkeypatch.setenv("CACHE_ORIGIN_PORT", origin.url.rsplit(":", 1)[1])
        yield origin
        Launcher(progress=lambda _line: None).down(["nginx"])


def cached_get(base: str, path: str) -> httpx.Response:
    return httpx.get(f"{base}{path}?cc=public,%20max-age%3D60", headers={"Connection": "close"})


def test_up_caches_in_front_of_the_origin_and_survives_a_kill(
    nginx_env: CountingOrigin, isolated_env: Path
) -> None:
    launcher = Launcher(progress=lambda _line: None)
    (started,) = launcher.up(["nginx"])
    assert started.healthy, started.detail
    assert started.backend == "native"
    assert started.version.startswith("1.22")
    base = os.environ["CACHE_PROXY_URL"]
    statuses = [cached_get(base, "/launcher").headers["x-cache-status"] for _ in range(2)]
    assert statuses == ["MISS", "HIT"]
    assert nginx_env.count("/launcher") == 1
    # Its cache, config, pid and error log live in its state folder.
    assert (isolated_env / "nginx" / "data" / "nginx.conf").exists()
    assert (isolated_env / "nginx" / "data" / "error.log").exists()

    assert started.pid is not None
    os.kill(started.pid, signal.SIGTERM)
    psutil.Process(started.pid).wait(timeout=30)
    status = CliRunner().invoke(app, ["services", "status", "nginx"])
    assert status.exit_code == 1
    assert "unhealthy: nginx" in status.output

    (restored,) = launcher.up(["nginx"])
    assert restored.healthy, restored.detail
    assert restored.pid != started.pid
    # The cache on disk outlived the process.
    assert cached_get(base, "/launcher").headers["x-cache-status"] == "HIT"
    assert launcher.down(["nginx"]) == ["nginx"]
    assert (
        not psutil.pid_exists(restored.pid or -1)
        or psutil.Process(restored.pid).status() == "zombie"
    )


def test_a_hostile_origin_port_is_a_clear_error(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CACHE_PROXY_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("CACHE_ORIGIN_PORT", "80; include /etc/passwd")
    result = CliRunner().invoke(app, ["services", "up", "nginx"])
    assert result.exit_code != 0
    assert "CACHE_ORIGIN_PORT must be a port number" in result.output
