"""reference/security/client_ip.py: X-Forwarded-For read only through trusted proxies.

Each case also runs against the guide's ``req.ip`` (``express_ip``) where the guide gets it wrong."""

from __future__ import annotations

import asyncio

import pytest
from starlette.requests import Request
from starlette.types import Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from guide.security.rate_limit import express_ip
from reference.security.client_ip import TrustedProxies, client_ip, resolve

TRUSTED = TrustedProxies.parse(["10.0.0.0/8", "2001:db8:ffff::/48"])


def request(peer: str | None, *forwarded: str) -> Request:
    headers = [(b"x-forwarded-for", value.encode("latin-1")) for value in forwarded]
    scope = {"type": "http", "method": "GET", "path": "/", "headers": headers, "query_string": b""}
    if peer is not None:
        scope["client"] = (peer, 40000)
    return Request(scope)


def test_direct_client_is_the_peer() -> None:
    assert client_ip(request("203.0.113.5"), TRUSTED) == "203.0.113.5"


def test_spoofed_header_from_an_untrusted_peer_is_ignored() -> None:
    """The client talks to the app directly and claims to be someone else: ignored. The guide
    with trust proxy believes it."""
    spoofed = request("203.0.113.5", "192.0.2.1")
    assert client_ip(spoofed, TRUSTED) == "203.0.113.5"
    assert express_ip(spoofed, trust_proxy=True) == "192.0.2.1"


def test_through_one_trusted_proxy_the_rightmost_entry() -> None:
    """Through the proxy: the client's own leftmost entries are ignored; the proxy's appended
    address is the client. The guide (trust proxy) takes the leftmost, the client's choice."""
    via_proxy = request("10.0.0.2", "192.0.2.1, 203.0.113.5")
    assert client_ip(via_proxy, TRUSTED) == "203.0.113.5"
    assert express_ip(via_proxy, trust_proxy=True) == "192.0.2.1"
    assert express_ip(via_proxy, trust_proxy=False) == "10.0.0.2"


def test_walks_past_every_trusted_hop() -> None:
    """CDN → load balancer → app: the walk skips both trusted hops (rightmost alone is a proxy)."""
    chain = request("10.0.0.2", "192.0.2.1, 203.0.113.5, 10.1.2.3, 10.9.9.9")
    assert client_ip(chain, TRUSTED) == "203.0.113.5"


def test_repeated_header_lines_are_one_list() -> None:
    """Two X-Forwarded-For lines are one comma list in order (RFC 9110 §5.3)."""
    assert client_ip(request("10.0.0.2", "192.0.2.1", "203.0.113.5, 10.0.0.7"), TRUSTED) == (
        "203.0.113.5"
    )


def test_all_hops_trusted_gives_the_leftmost() -> None:
    assert client_ip(request("10.0.0.2", "10.0.0.3, 10.0.0.4"), TRUSTED) == "10.0.0.3"


def test_one_spelling_per_address() -> None:
    """``2001:DB8::1`` and ``2001:db8:0::1`` are one client (one bucket); so is an IPv4-mapped
    IPv6 address and its IPv4 form."""
    assert client_ip(request("10.0.0.2", "2001:DB8:0:0::1"), TRUSTED) == "2001:db8::1"
    assert client_ip(request("::ffff:203.0.113.5"), TRUSTED) == "203.0.113.5"
    assert client_ip(request("2001:db8:ffff::9", "::FFFF:192.0.2.1"), TRUSTED) == "192.0.2.1"
    assert client_ip(request("fe80::1%eth0"), TRUSTED) == "fe80::1"


def test_garbage_beyond_the_client_is_never_read() -> None:
    """Whatever the client prepends (junk, 10 kB) sits left of the first untrusted hop."""
    junk = "not-an-ip, " * 1000 + "192.0.2.1"
    assert client_ip(request("10.0.0.2", junk + ", 203.0.113.5"), TRUSTED) == "203.0.113.5"


@pytest.mark.parametrize(
    "forwarded", ["not-an-ip", "203.0.113.5, ", "203.0.113.5,,10.0.0.3", "203.0.113.5:443", "\x00"]
)
def test_malformed_entry_reached_by_the_walk_is_a_value_error(forwarded: str) -> None:
    """A trusted proxy never writes these: ValueError (the app answers 400), not a guess."""
    with pytest.raises(ValueError, match=r"not an IP address|empty entry"):
        client_ip(request("10.0.0.2", forwarded), TRUSTED)


def test_no_peer_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="no peer"):
        client_ip(request(None), TRUSTED)


def test_malformed_peer_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="not an IP"):
        resolve("testclient", [], TRUSTED)


@pytest.mark.parametrize("entries", [["10.0.0.0/33"], ["proxy.internal"], "10.0.0.1"])
def test_trusted_list_typo_is_a_value_error(entries: list[str] | str) -> None:
    """A typo in the configuration must not silently trust nobody (or everybody)."""
    with pytest.raises(ValueError, match=r"not an IP address or network|not one string"):
        TrustedProxies.parse(entries)


def test_nobody_trusted_means_the_header_is_never_read() -> None:
    assert client_ip(request("10.0.0.2", "192.0.2.1"), TrustedProxies.parse([])) == "10.0.0.2"


WELL_FORMED = [
    ("203.0.113.5", ()),
    ("203.0.113.5", ("192.0.2.1",)),
    ("10.0.0.2", ("192.0.2.1, 203.0.113.5",)),
    ("10.0.0.2", ("192.0.2.1, 203.0.113.5, 10.1.2.3, 10.9.9.9",)),
    ("10.0.0.2", ("192.0.2.1", "203.0.113.5, 10.0.0.7")),
    ("10.0.0.2", ("10.0.0.3, 10.0.0.4",)),
]


def uvicorn_client(peer: str, forwarded: tuple[str, ...]) -> str:
    """The address uvicorn's ``--proxy-headers --forwarded-allow-ips`` gives the app."""
    seen: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["client"][0])

    async def nothing() -> Message:
        return {}

    async def ignore(message: Message) -> None:
        return None

    middleware = ProxyHeadersMiddleware(app, trusted_hosts=["10.0.0.0/8", "2001:db8:ffff::/48"])  # type: ignore[arg-type]
    scope = request(peer, *forwarded).scope
    asyncio.run(middleware(scope, nothing, ignore))  # type: ignore[arg-type]
    return seen[0]


@pytest.mark.parametrize(("peer", "forwarded"), WELL_FORMED)
def test_uvicorn_proxy_headers_agrees_on_well_formed_chains(
    peer: str, forwarded: tuple[str, ...]
) -> None:
    """The production tool does the same walk (it does not canonicalise nor refuse junk)."""
    assert uvicorn_client(peer, forwarded) == client_ip(request(peer, *forwarded), TRUSTED)
