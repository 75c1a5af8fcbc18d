"""Fixtures chapter 04's discovery tests and grading share (``tests/microservices/conftest.py`` and
``grading/04_microservices/conftest.py`` import them).

- ``etcd_url``: the course's etcd (``ETCD_URL``), started if needed.
- ``etcd_prefix``: a registry prefix (``/t_…/services/``) owned by the test, carrying the run tag
  (``course.testing.resources`` removes a killed run's keys); every key under it is deleted after.
- ``scratch_etcd``: a throwaway etcd of the module's own (:class:`ScratchEtcd`) for what must not
  touch the shared server: counting its reads, stopping or restarting it.
- ``quiet_etcd_url``: the URL of an etcd nobody else talks to — ``scratch_etcd``'s when the etcd
  binary is installed (the native launcher installs it), else the course's own (under docker
  compose; on a learner's machine little else reads it while their check runs).
- ``service_processes``: starts chapter 04's services as real processes
  (``python -m reference.microservices.services``) and kills any left at the end.
- ``instance_processes``: bare registered instances as processes (``python -m
  reference.microservices.discovery``: a registration and its heartbeat, no web server — a second
  to start where a FastAPI service takes three on a loaded runner).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest

from course.testing.fixtures import ensure_server
from course.testing.resources import unique_name
from reference.config import REPO_ROOT, get_settings

if TYPE_CHECKING:
    from reference.microservices.etcd import ScratchEtcd


@pytest.fixture
def etcd_url() -> str:
    ensure_server("etcd")
    return get_settings().url_for("etcd")


@pytest.fixture
def etcd_prefix(etcd_url: str) -> Iterator[str]:
    from reference.microservices.etcd import etcd_client

    prefix = f"/{unique_name('t')}/services/"
    yield prefix
    client = etcd_client(etcd_url)
    client.delete_prefix(prefix)
    client.session.close()


@pytest.fixture(scope="module")
def scratch_etcd() -> Iterator[ScratchEtcd]:
    from reference.microservices.etcd import ScratchEtcd

    with ScratchEtcd() as etcd:
        yield etcd


@pytest.fixture(scope="module")
def quiet_etcd_url() -> Iterator[str]:
    import shutil

    if shutil.which("etcd") is None:
        ensure_server("etcd")
        yield get_settings().url_for("etcd")
        return
    from reference.microservices.etcd import ScratchEtcd

    with ScratchEtcd() as etcd:
        yield etcd.url


ServiceStarter = Callable[..., subprocess.Popen[bytes]]


def _stop_all(started: list[subprocess.Popen[bytes]]) -> None:
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(10)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture
def instance_processes() -> Iterator[ServiceStarter]:
    """``start(name, instance_id, port, etcd_url=…, prefix=…, ttl=3, heartbeat=1.0)`` → the process,
    returned at once (it prints ``registered <key>`` when it is in the registry)."""
    started: list[subprocess.Popen[bytes]] = []

    def start(
        name: str,
        instance_id: str,
        port: int,
        *,
        etcd_url: str,
        prefix: str,
        ttl: int = 3,
        heartbeat: float = 1.0,
    ) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "reference.microservices.discovery",
                name,
                instance_id,
                "127.0.0.1",
                str(port),
                f"--etcd-url={etcd_url}",
                f"--prefix={prefix}",
                f"--ttl={ttl}",
                f"--heartbeat={heartbeat}",
            ],
            cwd=REPO_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
        )
        started.append(process)
        return process

    yield start
    _stop_all(started)


@pytest.fixture
def service_processes() -> Iterator[ServiceStarter]:
    """``start(name, port, etcd_url=…, prefix=…, instance_id=…, ttl=3, heartbeat=1.0)`` → the process."""
    started: list[subprocess.Popen[bytes]] = []

    def start(
        name: str,
        port: int,
        *,
        etcd_url: str,
        prefix: str,
        instance_id: str,
        ttl: int = 3,
        heartbeat: float = 1.0,
    ) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "reference.microservices.services",
                name,
                f"--port={port}",
                f"--etcd-url={etcd_url}",
                f"--prefix={prefix}",
                f"--id={instance_id}",
                f"--ttl={ttl}",
                f"--heartbeat={heartbeat}",
            ],
            cwd=REPO_ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        started.append(process)
        return process

    yield start
    _stop_all(started)
