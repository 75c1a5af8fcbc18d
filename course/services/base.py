"""The contract every natively run server fulfils, and the small value types the launcher passes around.

A native server is a process of ours: installed on demand (Debian packages, Maven Central jars), started
with its state under ``.services/<name>/``, recorded by PID, and never run as a system service.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from reference.config import REPO_ROOT, state_dir

STATE_ROOT = REPO_ROOT / ".services"
"""The repository's own state folder; downloads cached here are shared with any ``COURSE_STATE_DIR``."""

Progress = Callable[[str], None]
"""Reports one line of progress for a long step (an install, a download, a wait)."""


class ServiceError(RuntimeError):
    """A launcher failure with a message that tells the user what to do. Never shown as a traceback."""


@dataclass(frozen=True)
class Paths:
    """Where one native server keeps its state; ``data`` is what ``reset`` wipes."""

    root: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def log(self) -> Path:
        return self.root / "server.log"

    @property
    def pid(self) -> Path:
        return self.root / "server.pid"


class NativeServer(ABC):
    """One server the launcher can install and run as a child process of its own.

    Constructed from the parsed settings (``NativeServer(settings)``): each reads its ports from
    ``settings.endpoint(VARIABLE)``, the same URL its clients use. The registry
    (``reference/setup/servers.py``) names the class.
    """

    name: str
    ports: tuple[int, ...]  # every port it binds; the first is the client port

    def paths(self) -> Paths:
        return Paths(state_dir() / self.name)

    @abstractmethod
    def missing(self) -> list[str]:
        """What must be installed before this server can run (empty when ready)."""

    @abstractmethod
    def install(self, progress: Progress) -> None:
        """Install what :meth:`missing` reports. Needs root for Debian packages."""

    @abstractmethod
    def start(self, progress: Progress) -> int:
        """Start the server in the background, bound to 127.0.0.1, and return its PID.

        Initialises ``paths().data`` on first start and keeps it afterwards. Returns once the process
        is running; the launcher then waits for the client probe to succeed.
        """

    def stop(self, pid: int) -> None:
        """Stop the process gracefully; the launcher escalates to SIGKILL if it lingers."""
        import signal

        os.kill(pid, signal.SIGTERM)

    def after_stop(self) -> None:  # noqa: B027 - an optional hook, not an abstract step
        """Clean up helpers the server started beside itself (none by default)."""

    def ready_timeout(self) -> float:
        """Seconds to wait for the first successful probe after :meth:`start`."""
        return 60.0


def spawn(
    name: str, command: Sequence[str], paths: Paths, env: Mapping[str, str] | None = None
) -> int:
    """Start a server process in the background, its output appended to ``paths.log``; return its PID.

    The process gets a session of its own, so Ctrl-C in the launcher's terminal never reaches it.
    """
    paths.root.mkdir(parents=True, exist_ok=True)
    with paths.log.open("ab") as log:
        log.write(f"\n--- {name} start {time.strftime('%Y-%m-%d %H:%M:%S')} ---\n".encode())
        log.flush()
        process = subprocess.Popen(
            list(command),
            cwd=paths.root,
            env=None if env is None else dict(env),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return process.pid


def apt_install(packages: Sequence[str], progress: Progress) -> None:
    """Install Debian packages without starting them as system services."""
    if os.geteuid() != 0:
        raise ServiceError(
            "installing servers natively needs root. Run as root, or install them yourself:\n"
            f"    sudo apt-get install -y {' '.join(packages)}\n"
            "(or install Docker and the launcher will use docker compose instead)"
        )
    if shutil.which("apt-get") is None:
        raise ServiceError(
            f"no apt-get here: install {' '.join(packages)} with your package manager, "
            "or install Docker and run `course services up` again"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    # policy-rc.d exit 101 keeps the packages' own init scripts from starting system services.
    policy = Path("/usr/sbin/policy-rc.d")
    created_policy = not policy.exists()
    if created_policy:
        policy.write_text("#!/bin/sh\nexit 101\n")
        policy.chmod(0o755)
    try:
        progress(f"apt-get update (for {', '.join(packages)})")
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, capture_output=True)
        progress(f"apt-get install {' '.join(packages)}")
        result = subprocess.run(
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages],
            env=env,
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise ServiceError(f"apt-get install {' '.join(packages)} failed:\n{result.stderr}")
    finally:
        if created_policy:
            policy.unlink(missing_ok=True)
