"""The learner's commands start fast: nothing is imported, loaded or probed that the command does not use.

Measured startup belongs in ``bench/cli_latency.py``; these tests pin the causes instead: the client
libraries (kafka, pymongo, redis, psycopg, pika), jsonschema's format checkers, pytest, the notebook
machinery and the API frameworks are imported only by the commands that use them; a grading subprocess
loads only the pytest plugins its tests use, and does not probe again the servers ``course check``
probed a moment before. Import checks run in a fresh interpreter, because this test process has long
since imported everything.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from course.harness.loader import PROBED_VARIABLE, catalogue
from course.harness.runner import pytest_command
from course.testing import fixtures
from reference.config import REPO_ROOT

HEAVY = (
    "kafka",
    "pymongo",
    "redis",
    "psycopg",
    "pika",
    "jsonschema",
    "sqlalchemy",
    "fastapi",
    "starlette",
    "grpc",
    "strawberry",
    "httpx",
    "pytest",
    "nbformat",
    "nbclient",
)

SCRIPT = """
import json, sys
from course.cli import app
args = json.loads(sys.argv[1])
if args:
    try:
        app(args, prog_name="course")
    except SystemExit:
        pass
print("\\n" + json.dumps(sorted(sys.modules)))
"""


def loaded_modules(args: list[str], progress: Path) -> set[str]:
    """Top-level packages imported after ``course ARGS`` ran in a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(args)],
        cwd=REPO_ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "COURSE_PROGRESS_FILE": str(progress),
            "COURSE_AUTOSTART": "0",
        },
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    modules = json.loads(done.stdout.strip().splitlines()[-1])
    return {name.split(".")[0] for name in modules}


@pytest.mark.parametrize(
    "args",
    [[], ["--help"], ["hint", "00.1"], ["progress"], ["services", "--help"]],
    ids=["import", "help", "hint", "progress", "services-help"],
)
def test_light_commands_import_no_server_client(args: list[str], tmp_path: Path) -> None:
    """`import course.cli`, `--help`, `hint` and `progress` never import a server client, jsonschema,
    pytest or a web framework: those cost seconds of startup on a two-core machine."""
    heavy = sorted(set(HEAVY) & loaded_modules(args, tmp_path / "progress.json"))
    assert heavy == [], f"`course {' '.join(args)}` imported {heavy}"


def test_the_fixtures_plugin_imports_no_client_until_a_fixture_needs_it() -> None:
    """Every grading subprocess loads course.testing.fixtures: importing it must not import the five
    clients and SQLAlchemy (seconds), only what a test's fixtures then ask for."""
    code = "import json, sys, course.testing.fixtures; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    loaded = {name.split(".")[0] for name in json.loads(done.stdout)}
    clients = {"kafka", "pymongo", "redis", "psycopg", "pika", "sqlalchemy", "httpx"}
    assert sorted(clients & loaded) == []


def test_grading_runs_load_only_the_plugins_their_tests_use() -> None:
    """hypothesis, pytest-asyncio, anyio and schemathesis cost every run startup time: a grading file
    that uses none of them (00.1) runs without them; one with async tests (01.5) gets pytest-asyncio."""
    plain = pytest_command(catalogue()["00.1"])
    for plugin in ("_hypothesis_pytestplugin", "pytest_asyncio.plugin", "anyio.pytest_plugin"):
        assert plugin not in plain
    assert "pytest_timeout" in plain
    assert "pytest_asyncio.plugin" in pytest_command(catalogue()["01.5"])


def test_a_server_probed_by_the_caller_is_not_probed_again(
    monkeypatch: pytest.MonkeyPatch, closed_port: int
) -> None:
    """`course check` probes the servers, then names them in $COURSE_SERVERS_PROBED for the grading
    subprocess, whose ensure_server() then trusts them; a server not named is still probed."""
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{closed_port}/0")
    monkeypatch.setenv("COURSE_AUTOSTART", "0")
    monkeypatch.setattr(fixtures, "_checked", {})
    monkeypatch.setenv(PROBED_VARIABLE, "postgres,redis")
    fixtures.ensure_server("redis")  # trusted: not probed, so the closed port goes unnoticed
    monkeypatch.setattr(fixtures, "_checked", {})
    monkeypatch.setenv(PROBED_VARIABLE, "postgres")
    with pytest.raises(pytest.fail.Exception, match="redis is not reachable"):
        fixtures.ensure_server("redis")
