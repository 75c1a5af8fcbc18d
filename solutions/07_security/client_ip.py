"""Taught in notebooks/07_security_limits.ipynb §1.

Exercise 07.2: the client's IP address behind reverse proxies — X-Forwarded-For through trusted
hops only.

Rate limits, audit logs and lockouts key on "the client's IP". Behind a load balancer the TCP
peer is the load balancer, so the guide's Express app either puts every user in one bucket or,
with ``trust proxy: true``, takes the LEFTMOST ``X-Forwarded-For`` entry — the one the client
wrote itself, so an attacker picks a fresh bucket per request.

Each proxy APPENDS the address of the peer it talked to; only the right end of the header was
written by machines we run. ``client_ip(request, trusted)`` returns the client's address:

* start from the TCP peer (``request.client.host``); while the address in hand is inside one of
  the ``trusted`` networks (addresses or CIDR blocks such as ``"10.0.0.0/8"``), step one
  ``X-Forwarded-For`` entry to the left; the first address that is not trusted is the answer
  (when every entry is trusted, the leftmost one);
* a header from an untrusted peer is never read; entries left of the answer are never read
  either (whatever junk the client put there);
* several ``X-Forwarded-For`` header lines are one comma-separated list, in order
  (``request.headers.getlist``);
* return one canonical spelling per address: ``str(ipaddress.ip_address(...))``, with
  IPv4-mapped IPv6 (``::ffff:192.0.2.7``) folded to IPv4 and an IPv6 zone (``%eth0``) dropped;
* ``ValueError`` when: the request has no peer, the peer is not an IP address, an entry the walk
  reaches is not an IP address (empty, a port, a name …), or a ``trusted`` entry is not an
  address/network (or ``trusted`` is one string instead of a list).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from starlette.requests import Request

from reference.security.client_ip import canonical_ip

__all__ = ["client_ip"]


def client_ip(request: Request, trusted: Sequence[str]) -> str:
    """The address ``request`` came from, believing ``X-Forwarded-For`` only from ``trusted``."""
    if isinstance(trusted, str):
        raise ValueError("trusted is a list of addresses/networks, not one string")
    try:
        networks = [ipaddress.ip_network(entry, strict=False) for entry in trusted]
    except ValueError as error:
        raise ValueError(f"bad trusted proxy entry: {error}") from None
    if request.client is None:
        raise ValueError("no peer address")
    hops = [
        part.strip()
        for line in request.headers.getlist("x-forwarded-for")
        for part in line.split(",")
    ]
    # The peer first, then the header from its right end: each element was written by the one
    # before it, so each is believable only while the previous one is ours.
    address = canonical_ip(request.client.host)
    for hop in reversed(hops):
        if not any(address in network for network in networks):
            break
        address = canonical_ip(hop)
    return str(address)
