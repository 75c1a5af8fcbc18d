"""An isolated launcher: its own state folder and its own ports, so a test can stop, kill, wipe or
alarm a server without touching the shared ones every other test uses.

Used by ``tests/course`` (the launcher's own tests) and ``tests/messaging`` (a RabbitMQ under a
resource alarm, ``test_rabbitmq_blocked.py``)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from course.services.launcher import Launcher
from reference.config import REPO_ROOT
from reference.setup.ports import free_port, free_port_pair


@pytest.fixture
def isolated_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point the launcher at a fresh state folder and free ports for postgres and redis."""
    # Under the repository, not /tmp: the postgres user must be able to reach the cluster folder.
    (REPO_ROOT / ".services").mkdir(exist_ok=True)
    state = Path(tempfile.mkdtemp(prefix="test-", dir=REPO_ROOT / ".services"))
    os.chmod(state, 0o755)
    monkeypatch.setenv("COURSE_STATE_DIR", str(state))
    monkeypatch.setenv("COURSE_BACKEND", "native")
    monkeypatch.setenv("DATABASE_URL", f"postgresql://course:course@127.0.0.1:{free_port()}/course")
    monkeypatch.setenv("REDIS_URL", f"redis://:course@127.0.0.1:{free_port()}/0")
    monkeypatch.setenv("KEYCLOAK_URL", f"http://127.0.0.1:{free_port()}")
    yield state
    launcher = Launcher(progress=lambda _line: None)
    launcher.down(["postgres", "redis"])
    shutil.rmtree(state, ignore_errors=True)


@pytest.fixture
def launcher(isolated_env: Path) -> Launcher:
    return Launcher(progress=lambda _line: None)


@pytest.fixture
def isolated_jvm_env(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Also give mongo, kafka and rabbitmq ports of their own (their installs stay shared)."""
    amqp = free_port()
    monkeypatch.setenv("MONGODB_URL", f"mongodb://127.0.0.1:{free_port()}/?directConnection=true")
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", f"127.0.0.1:{free_port_pair()}")
    monkeypatch.setenv("KAFKA_GRADING_BOOTSTRAP_SERVERS", f"127.0.0.1:{free_port()}")
    monkeypatch.setenv("KAFKA_ADMIN_URL", f"sasl-plain://admin:course@127.0.0.1:{free_port()}")
    monkeypatch.setenv("AMQP_URL", f"amqp://course:course@127.0.0.1:{amqp}/%2F")
    monkeypatch.setenv("RABBITMQ_MANAGEMENT_URL", f"http://course:course@127.0.0.1:{free_port()}")
    yield isolated_env
    Launcher(progress=lambda _line: None).down(["mongo", "kafka", "rabbitmq"])
