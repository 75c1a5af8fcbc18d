"""The compose backend's pieces that need no Docker engine: detection and volume bookkeeping."""

from __future__ import annotations

from pathlib import Path

import pytest

from course.services import compose


def test_volumes_of_each_service_are_named_with_the_project() -> None:
    assert compose.named_volumes(["postgres"]) == ["backend-skill-lab_postgres-data"]
    assert compose.named_volumes(["mongo", "redis"]) == [
        "backend-skill-lab_mongo-data",
        "backend-skill-lab_mongo-config",
        "backend-skill-lab_redis-data",
    ]


def test_bind_mounts_are_not_volumes(tmp_path: Path) -> None:
    spec = tmp_path / "compose.yml"
    spec.write_text(
        "services:\n  app:\n    image: x:1\n    volumes:\n"
        "      - ./src:/src\n      - {type: volume, source: cache, target: /c}\nvolumes:\n  cache:\n"
    )
    assert compose.named_volumes(["app"], spec) == [f"{tmp_path.name}_cache"]


def test_no_engine_means_native(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    assert compose.engine_available(timeout=1) is False
