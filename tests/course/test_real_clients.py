"""The servers answer the standard command-line clients with the README's credentials.

These are clients no one here wrote: if the launcher bound the wrong interface, mis-set a password
or advertised the wrong Kafka listener, they fail where our Python clients might not.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from course.testing.fixtures import ensure_server
from reference.config import state_dir


def run(*command: str) -> str:
    if shutil.which(command[0]) is None and "/" not in command[0]:
        pytest.skip(f"{command[0]} is not installed (apt-get install {command[0]})")
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_psql() -> None:
    ensure_server("postgres")
    output = run(
        "psql", "postgresql://course:course@127.0.0.1:15432/course", "-Atc", "select 6 * 7"
    )
    assert output.strip() == "42"


def test_redis_cli() -> None:
    ensure_server("redis")
    assert (
        run("redis-cli", "-p", "16379", "-a", "course", "--no-auth-warning", "ping").strip()
        == "PONG"
    )


def test_kcat_lists_the_broker() -> None:
    ensure_server("kafka")
    output = run("kcat", "-b", "127.0.0.1:19092", "-L", "-m", "10")
    assert "1 brokers:" in output
    assert "127.0.0.1:19092" in output


def test_rabbitmqctl_reaches_the_node() -> None:
    ensure_server("rabbitmq")
    wrapper = state_dir() / "rabbitmq" / "ctl"
    if not wrapper.exists():
        pytest.skip(
            "rabbitmq is not run natively here (use `docker compose exec rabbitmq rabbitmqctl`)"
        )
    output = run(str(wrapper), "list_users")
    assert "course" in output
