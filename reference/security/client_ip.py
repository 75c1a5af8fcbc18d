"""The client's IP address behind reverse proxies: ``X-Forwarded-For`` read only through trusted hops.

The guide keys its rate limits on Express's ``req.ip``. Without ``trust proxy`` that is the
proxy's address, so behind a load balancer every client shares one bucket; with ``trust proxy:
true`` it is the LEFTMOST ``X-Forwarded-For`` entry — the one the client wrote itself, so any
client picks its own bucket (guide-defects.md 7.1).

The pattern (the "rightmost trusted" walk): each proxy APPENDS the address of the peer it talked
to, so only the right end of the header was written by machines we run. Start from the TCP peer;
while the address in hand belongs to a configured trusted proxy, step one entry left in
``X-Forwarded-For``; the first address that is not a trusted proxy is the client. A header sent by
an untrusted peer is never read at all. Addresses come back in one canonical spelling
(``2001:DB8::1`` is ``2001:db8::1``, ``::ffff:192.0.2.7`` is ``192.0.2.7``, a zone ``%eth0`` is
dropped) so one client has one bucket. A malformed entry reached by the walk is a ``ValueError`` (an app answers 400), never a
guess. Taught in ``notebooks/07_security_limits.ipynb`` §1.

Production: uvicorn's ``--proxy-headers --forwarded-allow-ips`` (``ProxyHeadersMiddleware``) does
the same walk for ``request.client``; this module makes the walk visible and testable.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from starlette.requests import Request

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def canonical_ip(text: str) -> IPAddress:
    """``text`` as one address (IPv4-mapped IPv6 folded to IPv4); ``ValueError`` if it is not one."""
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        raise ValueError(f"not an IP address: {text[:64]!r}") from None
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        # a zone ("fe80::1%eth0") names our interface, not the client: one bucket per address
        return ipaddress.IPv6Address(address.packed)
    return address


@dataclass(frozen=True)
class TrustedProxies:
    """The networks our own reverse proxies send from (``10.0.0.0/8``, ``127.0.0.1`` …)."""

    networks: tuple[IPNetwork, ...]

    @classmethod
    def parse(cls, entries: Iterable[str]) -> TrustedProxies:
        """From addresses or CIDR blocks; ``ValueError`` on anything else (a typo trusts nobody)."""
        if isinstance(entries, str):
            raise ValueError("pass a list of addresses/networks, not one string")
        networks = []
        for entry in entries:
            try:
                networks.append(ipaddress.ip_network(entry.strip(), strict=False))
            except ValueError:
                raise ValueError(f"not an IP address or network: {entry!r}") from None
        return cls(tuple(networks))

    def __contains__(self, address: IPAddress) -> bool:
        return any(address in network for network in self.networks)


def forwarded_chain(values: Sequence[str]) -> list[str]:
    """Every ``X-Forwarded-For`` entry, left to right, across repeated header lines (RFC 9110 §5.3)."""
    return [part.strip() for value in values for part in value.split(",")]


def resolve(peer: str, forwarded_for: Sequence[str], trusted: TrustedProxies) -> str:
    """The client address given the TCP ``peer`` and the ``X-Forwarded-For`` header lines."""
    current = canonical_ip(peer)
    chain = forwarded_chain(forwarded_for)
    while current in trusted and chain:
        entry = chain.pop()
        if not entry:
            # "a,,b" or a trailing comma: a proxy we trust would not write that
            raise ValueError("empty entry in X-Forwarded-For")
        current = canonical_ip(entry)
    return str(current)


def client_ip(request: Request, trusted: TrustedProxies) -> str:
    """The address a request came from, through ``trusted`` proxies only."""
    if request.client is None:
        raise ValueError("the request has no peer address (not served over TCP)")
    return resolve(request.client.host, request.headers.getlist("x-forwarded-for"), trusted)
