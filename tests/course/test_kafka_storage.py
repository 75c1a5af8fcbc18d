"""KRaft cluster ids and the ``kafka-storage format`` command (course/services/native/kafka.py).

One id in 64 used to start with ``-``, and ``format --cluster-id -abc…`` then read it as an option
("expected one argument"), failing a clean-clone CI run at random. Ids are now drawn the way Kafka's
``Uuid.randomUuid()`` draws them, and every value is passed as ``--option=value``.
"""

from __future__ import annotations

import base64
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from course.services.native.kafka import KafkaServer, new_cluster_id, server_properties
from reference.config import REPO_ROOT, get_settings

# 16 bytes whose URL-safe base64 starts with "-" (0xf8 >> 2 == 62, the alphabet's "-").
DASH_LEADING = uuid.UUID(bytes=bytes([0xF8]) + bytes(range(1, 16)))


def test_cluster_ids_never_start_with_a_dash() -> None:
    """Thousands of draws (one in 64 led with "-" before): every id is 22 characters of 16 bytes."""
    ids = [new_cluster_id() for _ in range(5000)]
    assert not [cluster_id for cluster_id in ids if cluster_id.startswith("-")]
    for cluster_id in ids:
        assert len(cluster_id) == 22
        assert len(base64.urlsafe_b64decode(cluster_id + "==")) == 16


def test_a_dash_leading_or_reserved_draw_is_drawn_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """As Kafka's Uuid.randomUuid(): a draw that would print with a leading "-", or a reserved id
    (all zeros, the metadata topic's 0…01), is discarded and the next one is used."""
    good = uuid.UUID(bytes=bytes(range(16)))
    draws = iter([DASH_LEADING, uuid.UUID(int=0), uuid.UUID(int=1), good])
    monkeypatch.setattr("course.services.native.kafka.uuid.uuid4", lambda: next(draws))
    assert base64.urlsafe_b64encode(DASH_LEADING.bytes).decode().startswith("-")
    assert new_cluster_id() == base64.urlsafe_b64encode(good.bytes).decode().rstrip("=")


def test_no_format_argument_can_be_read_as_an_option() -> None:
    """Every value travels inside its ``--option=value`` argument, never as an argument of its own."""
    cluster_id = "-" + "A" * 21
    command = KafkaServer(get_settings()).format_command(cluster_id)
    assert f"--cluster-id={cluster_id}" in command
    assert cluster_id not in command


@pytest.fixture
def state_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    (REPO_ROOT / ".services").mkdir(exist_ok=True)
    state = Path(tempfile.mkdtemp(prefix="test-", dir=REPO_ROOT / ".services"))
    os.chmod(state, 0o755)
    monkeypatch.setenv("COURSE_STATE_DIR", str(state))
    yield state
    shutil.rmtree(state, ignore_errors=True)


@pytest.mark.slow
def test_kafka_storage_formats_with_a_dash_leading_cluster_id(state_dir: Path) -> None:
    """The real StorageTool accepts an id that starts with "-" (an id Kafka itself would never
    draw, but one the format command must not misread), and records it in meta.properties."""
    server = KafkaServer(get_settings())
    if server.missing():
        # ./dev up installs the jars whenever it runs Kafka natively (CI does); a checkout whose Kafka
        # runs elsewhere (docker compose, another checkout's server) has no StorageTool to call.
        pytest.skip(
            f"Kafka's jars are not installed in this checkout ({', '.join(server.missing())}):"
            " its Kafka runs elsewhere"
        )
    paths = server.paths()
    paths.data.mkdir(parents=True)
    server.config_file.write_text(server_properties(paths.data, server.listeners))
    cluster_id = base64.urlsafe_b64encode(DASH_LEADING.bytes).decode().rstrip("=")

    server.format_storage(lambda _line: None, cluster_id)

    assert f"cluster.id={cluster_id}\n" in (paths.data / "meta.properties").read_text()
