"""nginx from Debian's ``nginx`` package as the course's shared HTTP cache, run in the foreground.

Chapter 06 puts it in front of the notebook's demo app: the configuration is the repository's
``course/services/native/nginx/cache.conf.template`` (the compose service uses the same file), filled
in with the port of ``CACHE_PROXY_URL`` and the origin ``http://127.0.0.1:CACHE_ORIGIN_PORT`` (18091 by
default) — a fixed loopback port where ``uv run python -m reference.caching.demo`` serves the chapter's
demo app (nginx answers 502 when nothing does). Everything nginx writes (cache, temp files, pid, error log) is under
``.services/nginx/``; ``-e`` keeps even its start-up errors out of ``/var/log/nginx``. Debian's
package would start a system nginx on port 80: ``apt_install`` prevents that (policy-rc.d).
"""

from __future__ import annotations

import shutil

from course.services.base import NativeServer, Progress, ServiceError, apt_install, spawn
from reference.caching.nginx import check_config, write_config
from reference.config import Settings


class NginxServer(NativeServer):
    name = "nginx"

    def __init__(self, settings: Settings) -> None:
        self.port = settings.endpoint("CACHE_PROXY_URL").port
        origin_port = settings["CACHE_ORIGIN_PORT"]
        if not origin_port.isdigit() or not 0 < int(origin_port) < 65536:
            raise ServiceError(f"CACHE_ORIGIN_PORT must be a port number, not {origin_port!r}")
        self.origin = f"http://127.0.0.1:{int(origin_port)}"
        self.ports = (self.port,)

    def missing(self) -> list[str]:
        installed = shutil.which("nginx") or shutil.which("/usr/sbin/nginx")
        return [] if installed else ["nginx"]

    def install(self, progress: Progress) -> None:
        apt_install(["nginx"], progress)

    def start(self, progress: Progress) -> int:
        paths = self.paths()
        # data/ holds the cache; `reset` wipes it. The configuration is rewritten at every start.
        paths.data.mkdir(parents=True, exist_ok=True)
        command = write_config(paths.data, f"127.0.0.1:{self.port}", self.origin)
        check_config(command)
        return spawn(self.name, command, paths)

    def ready_timeout(self) -> float:
        return 20.0
