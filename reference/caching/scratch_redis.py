"""A throwaway ``redis-server`` for what must never happen to the course's shared Redis.

Chapter 06 needs a Redis of its own twice: eviction (``CONFIG SET maxmemory`` and a policy would
evict everyone's keys on the shared server; :mod:`reference.caching.eviction`) and write-behind's
crash (SIGKILL and restart, with or without an append-only file; :mod:`reference.caching.write_patterns`).
:class:`ScratchRedis` runs one on a free loopback port with its data in a temporary folder, removed
on exit. Taught in ``notebooks/06_caching_aside.ipynb`` §4 and ``notebooks/06_caching_stampede.ipynb`` §5.

It runs Debian's ``redis-server`` binary (installed by ``course services up redis`` on the native
path). Where the course's Redis runs in docker compose instead there is no binary on the host, and
:meth:`ScratchRedis.start` says so.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Final

import redis

from reference.setup.ports import free_port
from reference.setup.processes import stop_process

HOST: Final = "127.0.0.1"
START_TIMEOUT_S: Final = 10.0


class ScratchRedis:
    """``with ScratchRedis(persist=…) as server:`` → ``server.client()``; stopped and its folder
    removed on exit.

    ``persist=True`` runs it with ``appendonly yes`` and ``appendfsync always`` (every acknowledged
    write is on disk), ``False`` with no persistence at all (``--save ""``, no append-only file).
    """

    def __init__(self, *, persist: bool = False) -> None:
        self.persist = persist
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="scratch-redis-"))
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> ScratchRedis:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    def client(self, *, decode_responses: bool = True) -> redis.Redis:
        """A new client on this server (close it when done)."""
        return redis.Redis(
            host=HOST, port=self.port, decode_responses=decode_responses, socket_timeout=10
        )

    def start(self, timeout: float = START_TIMEOUT_S) -> None:
        binary = shutil.which("redis-server") or (
            "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
        )
        if binary is None:
            raise RuntimeError(
                "redis-server is not installed here (the course's Redis may run in docker compose): "
                "on Debian, `course services up redis` installs it natively"
            )
        command = [
            binary, "--port", str(self.port), "--bind", HOST, "--dir", str(self.folder),
            "--logfile", str(self.folder / "redis.log"), "--save", "",
            "--appendonly", "yes" if self.persist else "no", "--appendfsync", "always",
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + timeout
        with self.client() as probe:
            while True:
                try:
                    probe.ping()
                    return
                except redis.exceptions.ConnectionError as error:
                    if self.process.poll() is not None or time.monotonic() > deadline:
                        self.stop()
                        raise RuntimeError(
                            f"scratch redis-server did not start on port {self.port}; "
                            f"its log: {self.folder / 'redis.log'}"
                        ) from error
                    time.sleep(0.02)

    def crash(self) -> None:
        """SIGKILL: no chance to save anything the configuration did not already put on disk."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def restart(self) -> None:
        """A crash, then the same server started again on its folder."""
        self.crash()
        self.start()

    def stop(self) -> None:
        """SIGTERM (SIGKILL after 10 s)."""
        if self.process is not None:
            stop_process(self.process)
        self.process = None
