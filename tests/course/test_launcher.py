"""The launcher against real native servers, in an isolated state folder on ports of its own."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
from pathlib import Path

import psutil
import psycopg
import pytest
import redis

from course.services.base import ServiceError
from course.services.launcher import (
    Launcher,
    chapters_so_far,
    port_holder,
    servers_for,
    validate_names,
)
from reference.config import get_settings
from reference.setup.ports import free_port

pytestmark = pytest.mark.xdist_group("launcher")


def _seed(launcher: Launcher) -> None:
    settings = get_settings()
    with psycopg.connect(settings.database_url, autocommit=True) as connection:
        connection.execute("CREATE TABLE kept (value text)")
        connection.execute("INSERT INTO kept VALUES ('still here')")
    redis.Redis.from_url(settings.redis_url).set("kept", "still here")


def _pg_value() -> str | None:
    with psycopg.connect(get_settings().database_url) as connection:
        exists = connection.execute("SELECT to_regclass('kept') IS NOT NULL").fetchone()
        if not exists or not exists[0]:
            return None
        row = connection.execute("SELECT value FROM kept").fetchone()
        return None if row is None else str(row[0])


def _redis_value() -> bytes | None:
    value = redis.Redis.from_url(get_settings().redis_url).get("kept")
    return value if isinstance(value, bytes) else None


def test_up_twice_starts_nothing_twice(isolated_env: Path) -> None:
    lines: list[str] = []
    launcher = Launcher(progress=lines.append)
    first = launcher.up(["postgres", "redis"])
    assert all(row.healthy and row.backend == "native" for row in first)
    pids = {row.name: row.pid for row in first}
    assert any("postgres: starting" in line for line in lines)

    lines.clear()
    second = launcher.up(["postgres", "redis"])
    assert {row.name: row.pid for row in second} == pids
    assert not any("starting" in line for line in lines)
    assert (isolated_env / "env").read_text().count("DATABASE_URL=") == 1


def test_down_keeps_data_and_up_brings_it_back(launcher: Launcher) -> None:
    launcher.up(["postgres", "redis"])
    _seed(launcher)
    pids = [row.pid for row in launcher.status(["postgres", "redis"])]

    assert launcher.down(["postgres", "redis"]) == ["postgres", "redis"]
    assert not any(pid is not None and psutil.pid_exists(pid) for pid in pids)
    assert not any(row.healthy for row in launcher.status(["postgres", "redis"]))

    launcher.up(["postgres", "redis"])
    assert _pg_value() == "still here"
    assert _redis_value() == b"still here"


def test_down_stops_only_what_it_started(launcher: Launcher) -> None:
    assert launcher.down(["postgres"]) == []


def test_reset_wipes_data(launcher: Launcher) -> None:
    launcher.up(["postgres", "redis"])
    _seed(launcher)
    launcher.reset(["postgres", "redis"])
    rows = launcher.status(["postgres", "redis"])
    assert all(row.healthy for row in rows), "servers that were running come back after reset"
    assert _pg_value() is None
    assert _redis_value() is None


def test_killed_server_is_reported_and_restored_with_data(launcher: Launcher) -> None:
    launcher.up(["postgres", "redis"])
    _seed(launcher)
    (redis_row,) = launcher.status(["redis"])
    assert redis_row.pid is not None
    os.kill(redis_row.pid, signal.SIGTERM)
    psutil.Process(redis_row.pid).wait(timeout=10)

    rows = {row.name: row for row in launcher.status(["postgres", "redis"])}
    assert rows["postgres"].healthy
    assert not rows["redis"].healthy
    assert rows["redis"].backend == "stopped"

    launcher.up(["postgres", "redis"])
    assert _redis_value() == b"still here"
    assert _pg_value() == "still here"


def test_port_held_by_another_program_is_named(launcher: Launcher) -> None:
    port = int(get_settings().redis_url.rsplit(":", 1)[1].split("/")[0])
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        assert port_holder(port) is not None
        program = re.escape(psutil.Process().name())
        with pytest.raises(
            ServiceError, match=rf"port {port} is held by {program} \(pid {os.getpid()}\)"
        ):
            launcher.up(["redis"])


def test_free_port_has_no_holder() -> None:
    assert port_holder(free_port()) is None


def test_unknown_name_lists_the_valid_ones() -> None:
    with pytest.raises(
        ServiceError,
        match="valid names are: postgres, mongo, redis, kafka, rabbitmq, keycloak, nginx, etcd, envoy, "
        "prometheus, alertmanager, opensearch",
    ):
        validate_names(["postgres", "mysql"])


def test_names_come_back_in_canonical_order() -> None:
    assert validate_names(["rabbitmq", "postgres"]) == ["postgres", "rabbitmq"]
    assert validate_names([]) == [
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


def test_up_without_names_starts_what_the_chapters_so_far_need(tmp_path: Path) -> None:
    """Chapters are found from the checkout's notebooks and exercise folders; --chapter picks one."""
    assert chapters_so_far(tmp_path) == []
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "00_setup.ipynb").write_text("{}")
    (tmp_path / "exercises" / "03_auth").mkdir(parents=True)
    assert chapters_so_far(tmp_path) == ["00", "03"]
    assert servers_for(["03"]) == ["redis", "keycloak"]
    assert servers_for(["3"]) == ["redis", "keycloak"]
    with pytest.raises(ServiceError, match="no chapter 42"):
        servers_for(["42"])


def test_logs_show_the_server_log(launcher: Launcher) -> None:
    launcher.up(["redis"])
    assert "Ready to accept connections" in launcher.logs("redis", 200)


def test_bad_backend_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COURSE_BACKEND", "kubernetes")
    with pytest.raises(ServiceError, match="COURSE_BACKEND must be"):
        Launcher()


@pytest.mark.parametrize(
    "garbage",
    [
        "not json",
        '{"pid": "x"}',
        "[]",
        None,
        '{"pid": Infinity, "created": 0}',  # int(inf) is an OverflowError, which was not caught
    ],
)
def test_garbage_pid_file_does_not_orphan_our_server(
    launcher: Launcher, isolated_env: Path, garbage: str | None
) -> None:
    """A pid file that is garbage (or gone) while our server runs: the server is found again by its
    port and command line, ``status`` calls it native (not "external"), and ``down`` stops it."""
    (before,) = launcher.up(["redis"])
    assert before.pid is not None
    pid_file = isolated_env / "redis" / "server.pid"
    if garbage is None:
        pid_file.unlink()
    else:
        pid_file.write_text(garbage)

    (row,) = launcher.status(["redis"])
    assert (row.backend, row.pid, row.healthy) == ("native", before.pid, True)

    assert launcher.down(["redis"]) == ["redis"]  # down waits for the process to exit
    assert not psutil.pid_exists(before.pid)


@pytest.mark.parametrize("created", ["NaN", '"nan"'])
def test_a_pid_file_naming_another_program_is_not_believed(
    launcher: Launcher, isolated_env: Path, created: str
) -> None:
    """A pid file that names another live program with a start time that is not a number (NaN
    compared as "same process" with every start time) is garbage too: ``status`` finds our server
    by its port, and ``down`` stops it and leaves the other program alone."""
    (before,) = launcher.up(["redis"])
    bystander = subprocess.Popen(["sleep", "600"])
    try:
        pid_file = isolated_env / "redis" / "server.pid"
        pid_file.write_text(f'{{"pid": {bystander.pid}, "created": {created}}}')
        (row,) = launcher.status(["redis"])
        assert (row.backend, row.pid) == ("native", before.pid)
        assert launcher.down(["redis"]) == ["redis"]
        assert bystander.poll() is None
        assert before.pid is not None
        assert not psutil.pid_exists(before.pid)
    finally:
        bystander.kill()
        bystander.wait()


def test_a_program_of_someone_else_on_our_port_is_never_claimed(
    launcher: Launcher, isolated_env: Path
) -> None:
    """Recovery by port claims only a process working in our state folder: a squatter on the port,
    with a garbage pid file beside it, is left alone by ``status`` and ``down``."""
    port = int(get_settings().redis_url.rsplit(":", 1)[1].split("/")[0])
    (isolated_env / "redis").mkdir()
    (isolated_env / "redis" / "server.pid").write_text("garbage")
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        (row,) = launcher.status(["redis"])
        assert row.pid is None
        assert row.backend != "native"
        assert launcher.down(["redis"]) == []
        assert port_holder(port) is not None  # still ours (the test's), not killed
