"""etcd 3.4 from Debian's ``etcd-server`` as the course's service registry, run in the foreground.

Chapter 04 teaches service discovery (the guide's Consul) on etcd: instances register keys bound to
a lease, keep the lease alive with heartbeats and are watched by resolvers. One member, its data
under ``.services/etcd/data`` (kept across ``down``/``up``, wiped by ``reset``), its client port from
``ETCD_URL`` (12379 by default) and its peer port the next one (12380), both on 127.0.0.1 only.

Clients use etcd's JSON gateway (``/v3/…`` on the client port) through ``etcd3gw``, the client
OpenStack maintains; the ``etcd3`` gRPC client has been unmaintained since 2020.

Watch progress notifications every 2 s (etcd's default is 10 min) let a watcher tell a quiet stream
from a dead one: :mod:`reference.microservices.discovery` reconnects when none arrives in time. The
compose service passes the same flag.
"""

from __future__ import annotations

import shutil

from course.services.base import NativeServer, Progress, ServiceError, apt_install, spawn
from reference.config import Settings

PROGRESS_NOTIFY_INTERVAL = "2s"
"""How often etcd tells each idle watch stream "still here" (``--experimental-watch-progress-notify-interval``)."""


class EtcdServer(NativeServer):
    name = "etcd"

    def __init__(self, settings: Settings) -> None:
        try:
            self.port = settings.endpoint("ETCD_URL").port
        except ValueError as error:
            raise ServiceError(f"ETCD_URL must be http://127.0.0.1:PORT ({error})") from None
        if not 0 < self.port < 65535:
            raise ServiceError(f"ETCD_URL needs a client port below 65535, not {self.port}")
        # The peer port is the client port's neighbour: a single member never talks to a peer, but
        # etcd binds the port anyway, and it must not default to 2380 on every interface.
        self.peer_port = self.port + 1
        self.ports = (self.port, self.peer_port)

    def missing(self) -> list[str]:
        return [] if shutil.which("etcd") else ["etcd-server"]

    def install(self, progress: Progress) -> None:
        # Debian's package ships a systemd unit only; apt_install keeps it from starting anyway.
        apt_install(["etcd-server"], progress)

    def start(self, progress: Progress) -> int:
        paths = self.paths()
        paths.data.mkdir(parents=True, exist_ok=True)
        client = f"http://127.0.0.1:{self.port}"
        peer = f"http://127.0.0.1:{self.peer_port}"
        command = [
            shutil.which("etcd") or "etcd",
            "--name=course",
            f"--data-dir={paths.data}",
            f"--listen-client-urls={client}",
            f"--advertise-client-urls={client}",
            f"--listen-peer-urls={peer}",
            f"--initial-advertise-peer-urls={peer}",
            f"--initial-cluster=course={peer}",
            "--initial-cluster-state=new",
            f"--experimental-watch-progress-notify-interval={PROGRESS_NOTIFY_INTERVAL}",
            "--logger=zap",
            "--log-outputs=stderr",
        ]
        return spawn(self.name, command, paths)

    def ready_timeout(self) -> float:
        return 20.0
