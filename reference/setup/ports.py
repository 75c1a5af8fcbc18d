"""A free loopback port for a throwaway server (a scratch Redis, a test nginx, a benchmark's app).

The port is bound, read and released: the caller's server binds it a moment later. Another process
could take it in between — acceptable for tests and demonstrations on one machine, and the server's
own start then fails loudly rather than silently sharing a port.
"""

from __future__ import annotations

import socket

LOOPBACK = "127.0.0.1"


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port on ``host`` that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def free_port_pair(host: str = LOOPBACK) -> int:
    """A free port whose neighbour is free too, for a server that binds ``port`` and ``port + 1``
    (etcd's peer port, Kafka's controller)."""
    while True:
        port = free_port(host)
        with socket.socket() as sock:
            try:
                sock.bind((host, port + 1))
            except OSError:
                continue
        return port
