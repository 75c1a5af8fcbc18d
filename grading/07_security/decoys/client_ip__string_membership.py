"""Decoy for 07.2: the walk with `address in trusted` on the strings — a CIDR block such as 10.0.0.0/8 matches nothing, so the proxy is never trusted. Caught by test_one_trusted_proxy_gives_the_entry_it_appended."""

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
    _networks(trusted)
    if request.client is None:
        raise ValueError("no peer")
    address = _ip(request.client.host)
    for hop in reversed(_hops(request)):
        if address not in trusted:
            break
        address = _ip(hop)
    return address
