"""Decoy for 04.2: SIGTERM deregisters, then sys.exit(0): the orchestrator reads a clean exit ('finished'), not a termination. Caught by test_sigterm_deregisters_before_the_process_ends."""

from __future__ import annotations

import ipaddress
import json
import re
import signal
import socket
import sys
import threading
from types import FrameType

from etcd3gw.client import Etcd3Client
from etcd3gw.lease import Lease

__all__ = ["ServiceRegistration", "client_address"]

NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
INSTANCE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def client_address(address: str) -> str:
    """The IP address a client connects to for ``address``; ``ValueError`` if there is none."""
    if not isinstance(address, str) or not address or "\0" in address or len(address) > 253:
        raise ValueError(f"address must be a host name or IP address, not {address!r:.60}")
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        try:
            ip = ipaddress.ip_address(socket.getaddrinfo(address, None)[0][4][0])
        except (socket.gaierror, UnicodeError) as error:
            raise ValueError(f"address {address!r} does not resolve: {error}") from None
    if ip.is_unspecified:
        raise ValueError(f"{address!r} binds every interface; register the address clients use")
    return str(ip)


class ServiceRegistration:
    """One instance's entry in the registry, alive while the instance is."""

    def __init__(
        self,
        client: Etcd3Client,
        prefix: str,
        name: str,
        instance_id: str,
        address: str,
        port: int,
        ttl: int = 3,
        heartbeat: float = 1.0,
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.name = name
        self.instance_id = instance_id
        self.address = address
        self.port = port
        self.ttl = ttl
        self.heartbeat = heartbeat
        self.lease: Lease | None = None
        self.stopped = threading.Event()
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        """Validate, write the leased key and start the heartbeat."""
        if not isinstance(self.name, str) or not NAME.fullmatch(self.name):
            raise ValueError(f"bad service name {self.name!r:.60}")
        if not isinstance(self.instance_id, str) or not INSTANCE_ID.fullmatch(self.instance_id):
            raise ValueError(f"bad instance id {self.instance_id!r:.60}")
        port = self.port
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            raise ValueError(f"port must be an int 1-65535, not {port!r:.60}")
        address = client_address(self.address)
        value = {"name": self.name, "id": self.instance_id, "address": address, "port": port}
        lease = self.client.lease(self.ttl)
        self.client.put(f"{self.prefix}{self.name}/{self.instance_id}", json.dumps(value), lease)
        self.lease = lease

        def beat() -> None:
            while not self.stopped.wait(self.heartbeat):
                try:
                    lease.refresh()
                except Exception:  # noqa: BLE001, S112 - etcd down: try again next beat
                    continue

        self.thread = threading.Thread(target=beat, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        """Deregister now: stop the heartbeat, revoke the lease."""
        self.stopped.set()
        lease, self.lease = self.lease, None
        if lease is not None:
            lease.revoke()

    def stop_on_sigterm(self) -> None:
        """On SIGTERM: stop(), then end the process as SIGTERM would."""

        def handler(signum: int, _frame: FrameType | None) -> None:
            self.stop()
            sys.exit(0)

        signal.signal(signal.SIGTERM, handler)
