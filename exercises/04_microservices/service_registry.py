"""Taught in notebooks/04_microservices_discovery.ipynb §2.

Exercise 04.2: a registry entry that lives exactly as long as its instance.

The guide registers with Consul without an address (resolvers get an empty host), lets the agent
check ``localhost`` (its own machine, not the instance) and never deregisters: a crashed or stopped
instance stays listed. Here the registry is etcd (standing in for Consul): an instance's entry is a
key bound to a lease, and the lease lives only while the instance keeps it alive.

``ServiceRegistration(client, prefix, name, instance_id, address, port, ttl=3, heartbeat=1.0)``,
``client`` an ``etcd3gw.Etcd3Client``:

* ``start()`` writes the key ``f"{prefix}{name}/{instance_id}"`` with the JSON value
  ``{"name": name, "id": instance_id, "address": ADDRESS, "port": port}``, bound to a lease of
  exactly ``ttl`` seconds, and starts a heartbeat (a daemon thread) that refreshes the lease every
  ``heartbeat`` seconds — a killed instance stops beating and etcd deletes its key within ``ttl``;
* ``ADDRESS`` is what clients connect to: ``""``, ``"0.0.0.0"`` and ``"::"`` (bind-everything
  addresses) are refused with ``ValueError``; a host name is stored as the IP address it resolves
  to (``"localhost"`` → ``"127.0.0.1"``); an IP address is stored as given;
* ``name`` must match ``[a-z0-9][a-z0-9-]{0,62}``, ``instance_id`` ``[A-Za-z0-9][A-Za-z0-9._-]{0,127}``,
  ``port`` an ``int`` 1–65535 (``True`` is not a port): anything else is a ``ValueError`` — raised
  by the constructor or ``start()``, before anything is written to etcd;
* ``stop()`` deregisters at once: stop the heartbeat and revoke the lease (the key goes with it);
* ``stop_on_sigterm()`` makes SIGTERM deregister (``stop()``) and then end the process as SIGTERM
  would have (``kill <pid>`` is how orchestrators stop an instance; it must not linger for a TTL).

etcd3gw: ``client.lease(ttl)`` grants a lease, ``client.put(key, value, lease=lease)`` binds a key to
it, ``lease.refresh()`` keeps it alive, ``lease.revoke()`` ends it.
"""

from __future__ import annotations

import re
import threading

from etcd3gw.client import Etcd3Client
from etcd3gw.lease import Lease

__all__ = ["ServiceRegistration", "client_address"]

NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
INSTANCE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def client_address(address: str) -> str:
    """The IP address a client connects to for ``address``; ``ValueError`` if there is none."""
    # TODO: refuse "", "0.0.0.0" and "::" (ipaddress: is_unspecified); resolve a host name
    # (socket.getaddrinfo) to its IP address; return that address as a string.
    raise NotImplementedError


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
        # TODO: check name (NAME), instance id (INSTANCE_ID) and port (an int 1-65535, not a bool);
        # grant a lease of self.ttl, put the JSON value under the key with lease=..., and start a
        # daemon thread calling lease.refresh() every self.heartbeat seconds until stop().
        raise NotImplementedError

    def stop(self) -> None:
        """Deregister now: stop the heartbeat, revoke the lease."""
        # TODO: set self.stopped, revoke the lease (the key goes with it).
        raise NotImplementedError

    def stop_on_sigterm(self) -> None:
        """On SIGTERM: stop(), then end the process as SIGTERM would."""
        # TODO: a signal handler that calls self.stop(), restores SIG_DFL and raises the signal again.
        raise NotImplementedError
