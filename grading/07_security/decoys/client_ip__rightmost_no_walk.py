"""Decoy for 07.2: the rightmost entry when the peer is trusted, without walking past further trusted hops. Caught by test_walks_past_every_trusted_hop."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from starlette.requests import Request

__all__ = ["client_ip"]


def _ip(text: str) -> str:
    address = ipaddress.ip_address(text.strip())
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Address(address.packed))
    return str(address)


def _networks(trusted: Sequence[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    if isinstance(trusted, str):
        raise ValueError("a list, please")
    return [ipaddress.ip_network(entry, strict=False) for entry in trusted]


def _hops(request: Request) -> list[str]:
    return [
        p.strip() for line in request.headers.getlist("x-forwarded-for") for p in line.split(",")
    ]


def client_ip(request: Request, trusted: Sequence[str]) -> str:
    networks = _networks(trusted)
    if request.client is None:
        raise ValueError("no peer")
    peer = _ip(request.client.host)
    hops = _hops(request)
    if hops and any(ipaddress.ip_address(peer) in n for n in networks):
        return _ip(hops[-1])
    return peer
