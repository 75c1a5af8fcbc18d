"""The Docker backend: the same five servers from ``docker-compose.yml`` when a Docker engine answers."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import yaml

from course.services.base import ServiceError
from reference.config import REPO_ROOT

COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"


def engine_available(timeout: float = 2.0) -> bool:
    """True when a Docker engine answers a ping (the CLI alone is not enough)."""
    if shutil.which("docker") is None:
        return False
    try:
        import docker  # installed with testcontainers; the same probe it uses

        client = docker.from_env(timeout=int(max(timeout, 1)))
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:  # noqa: BLE001 — no socket, no permission, no engine: all mean unavailable
        return False


def compose(*args: str, timeout: float = 600) -> str:
    """Run ``docker compose -f docker-compose.yml ARGS`` and return its output."""
    command = ["docker", "compose", "-f", str(COMPOSE_FILE), *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    if result.returncode != 0:
        raise ServiceError(f"`{' '.join(command[1:])}` failed:\n{result.stderr.strip()}")
    return result.stdout


def running_services() -> set[str]:
    """Compose services with a running container."""
    return set(compose("ps", "--services", "--status", "running").split())


def named_volumes(services: Sequence[str], compose_file: Path = COMPOSE_FILE) -> list[str]:
    """The Docker volume names holding these services' data (``<project>_<volume>``)."""
    spec = yaml.safe_load(compose_file.read_text())
    project = spec.get("name") or compose_file.parent.name
    declared = set(spec.get("volumes") or {})
    names: list[str] = []
    for service in services:
        for mount in spec["services"][service].get("volumes", []):
            source = mount.split(":", 1)[0] if isinstance(mount, str) else mount.get("source")
            if source in declared:
                names.append(f"{project}_{source}")
    return names


def wipe(services: Sequence[str]) -> None:
    """Remove the services' containers and their named volumes (compose has no per-service ``-v``)."""
    compose("rm", "--stop", "--force", *services)
    volumes = named_volumes(services)
    if volumes:
        result = subprocess.run(
            ["docker", "volume", "rm", "--force", *volumes],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise ServiceError(f"docker volume rm failed:\n{result.stderr.strip()}")
