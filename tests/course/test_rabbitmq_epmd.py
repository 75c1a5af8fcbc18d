"""The native RabbitMQ starts its own port mapper (epmd) and waits for it before booting the node.

An Erlang node left to start epmd itself gives up at once ("nodistribution") when epmd is not
listening yet; on a loaded machine that failed a launcher test. These tests use an isolated state
folder and ports (``isolated_jvm_env``), never the course's RabbitMQ.
"""

from __future__ import annotations

import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from course.services.base import ServiceError
from course.services.native.rabbitmq import RabbitMQServer
from reference.config import get_settings


@pytest.fixture
def rabbit(isolated_jvm_env: Path) -> Iterator[RabbitMQServer]:
    server = RabbitMQServer(get_settings())
    server.paths().root.mkdir(parents=True, exist_ok=True)
    yield server
    server.after_stop()  # epmd -kill on our port


def test_epmd_answers_before_the_node_is_spawned(rabbit: RabbitMQServer) -> None:
    rabbit.after_stop()  # none running on our port
    rabbit._start_epmd()
    names = subprocess.run(
        ["epmd", "-names"], env=rabbit.environment(), capture_output=True, check=False, timeout=10
    )
    assert names.returncode == 0, names.stderr
    assert f"epmd: up and running on port {rabbit.epmd_port}" in names.stdout.decode()


def test_a_port_mapper_that_never_answers_is_a_clear_error(rabbit: RabbitMQServer) -> None:
    """Another program on the epmd port (here: one that accepts and hangs up) is named, not waited
    for forever."""
    with socket.socket() as impostor:
        impostor.bind(("127.0.0.1", rabbit.epmd_port))
        impostor.listen()
        stop = threading.Event()

        def hang_up() -> None:
            impostor.settimeout(0.1)
            while not stop.is_set():
                try:
                    connection, _ = impostor.accept()
                except TimeoutError:
                    continue
                connection.close()

        thread = threading.Thread(target=hang_up, daemon=True)
        thread.start()
        try:
            with pytest.raises(ServiceError, match=r"epmd\) does not answer on 127\.0\.0\.1:\d+"):
                rabbit._start_epmd(timeout=1.0)
        finally:
            stop.set()
            thread.join()
