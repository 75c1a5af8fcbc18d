"""Redis 7.0 from Debian's ``redis-server``, run in the foreground as our own process.

Append-only persistence keeps data across ``down``/``up`` (and across a SIGTERM, which makes Redis
fsync and exit cleanly), as the compose service's volume does.
"""

from __future__ import annotations

import shutil

from course.services.base import NativeServer, Progress, apt_install, spawn
from reference.config import Settings


class RedisServer(NativeServer):
    name = "redis"

    def __init__(self, settings: Settings) -> None:
        endpoint = settings.endpoint("REDIS_URL")
        self.port = endpoint.port
        self.password = endpoint.password
        self.ports = (self.port,)

    def missing(self) -> list[str]:
        return [] if shutil.which("redis-server") else ["redis-server"]

    def install(self, progress: Progress) -> None:
        apt_install(["redis-server"], progress)

    def start(self, progress: Progress) -> int:
        paths = self.paths()
        paths.data.mkdir(parents=True, exist_ok=True)
        command = [
            shutil.which("redis-server") or "redis-server",
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(paths.data),
            "--appendonly",
            "yes",
            "--save",
            "",
            "--daemonize",
            "no",
            "--logfile",
            "",
        ]
        if self.password:
            command += ["--requirepass", self.password]
        return spawn(self.name, command, paths)

    def ready_timeout(self) -> float:
        return 20.0
