"""Grading for exercise 07.2: the client IP through trusted proxies (exercises/07_security/client_ip.py).

Graded on real Starlette requests (peer address + X-Forwarded-For lines) and the address that
comes back — what a rate limiter would key on."""

from __future__ import annotations

from types import ModuleType

import pytest
from starlette.requests import Request

TRUSTED = ["10.0.0.0/8", "2001:db8:ffff::/48", "192.168.1.1"]


def request(peer: str | None, *forwarded: str) -> Request:
    headers = [(b"x-forwarded-for", value.encode("latin-1")) for value in forwarded]
    scope = {"type": "http", "method": "GET", "path": "/", "headers": headers, "query_string": b""}
    if peer is not None:
        scope["client"] = (peer, 40000)
    return Request(scope)


def test_direct_client_is_the_peer(exercise: ModuleType) -> None:
    """No proxy, no header: the client is the TCP peer."""
    assert exercise.client_ip(request("203.0.113.5"), TRUSTED) == "203.0.113.5"


def test_header_from_an_untrusted_peer_is_ignored(exercise: ModuleType) -> None:
    """A client talking to the app directly sends X-Forwarded-For: 192.0.2.1 to borrow someone
    else's bucket. The peer is not a trusted proxy, so its header is never read."""
    assert exercise.client_ip(request("203.0.113.5", "192.0.2.1"), TRUSTED) == "203.0.113.5"
    assert exercise.client_ip(request("198.51.100.7", "10.0.0.9"), TRUSTED) == "198.51.100.7"


def test_one_trusted_proxy_gives_the_entry_it_appended(exercise: ModuleType) -> None:
    """Through our proxy 10.0.0.2 the header is 'what the client sent, what the proxy saw'. The
    leftmost entry is the client's own invention (Express with trust proxy takes it); the
    rightmost, appended by our proxy, is the client."""
    got = exercise.client_ip(request("10.0.0.2", "192.0.2.1, 203.0.113.5"), TRUSTED)
    assert got == "203.0.113.5"


def test_walks_past_every_trusted_hop(exercise: ModuleType) -> None:
    """CDN edge → load balancer → app: the two rightmost entries are our own proxies (10.x and
    192.168.1.1); keep walking left until an address that is not ours."""
    chain = request("10.0.0.2", "192.0.2.1, 203.0.113.5, 192.168.1.1, 10.9.9.9")
    assert exercise.client_ip(chain, TRUSTED) == "203.0.113.5"


def test_repeated_header_lines_are_one_list(exercise: ModuleType) -> None:
    """Two X-Forwarded-For lines are one comma list, first line first (RFC 9110 §5.3): use
    request.headers.getlist, not .get (which sees only one line)."""
    got = exercise.client_ip(request("10.0.0.2", "192.0.2.1", "203.0.113.5, 10.0.0.7"), TRUSTED)
    assert got == "203.0.113.5"


def test_every_hop_trusted_gives_the_leftmost(exercise: ModuleType) -> None:
    """An internal call through two of our proxies: the leftmost (first) address is the client."""
    assert exercise.client_ip(request("10.0.0.2", "10.0.0.3, 10.0.0.4"), TRUSTED) == "10.0.0.3"


def test_one_spelling_per_address(exercise: ModuleType) -> None:
    """One client, one bucket: '2001:DB8:0:0::1' is '2001:db8::1', '::ffff:203.0.113.5' is
    '203.0.113.5' (IPv4-mapped), 'fe80::1%eth0' is 'fe80::1' (zone dropped). Returning the
    string as written lets one attacker spell a new bucket each time."""
    assert exercise.client_ip(request("10.0.0.2", "2001:DB8:0:0::1"), TRUSTED) == "2001:db8::1"
    assert exercise.client_ip(request("::ffff:203.0.113.5"), TRUSTED) == "203.0.113.5"
    assert exercise.client_ip(request("10.0.0.2", "::FFFF:192.0.2.1"), TRUSTED) == "192.0.2.1"
    assert exercise.client_ip(request("fe80::1%eth0"), TRUSTED) == "fe80::1"
    assert exercise.client_ip(request("2001:db8:ffff::9", " 203.0.113.5 "), TRUSTED) == (
        "203.0.113.5"
    )


def test_junk_left_of_the_client_is_never_read(exercise: ModuleType) -> None:
    """The client prepends 1,000 junk entries: they sit left of the first untrusted hop, so
    they are never read — no error (else any client could make its own requests fail… or
    yours, when its junk is parsed first), and the answer is still the client."""
    junk = "not-an-ip, " * 1000 + "192.0.2.1"
    assert exercise.client_ip(request("10.0.0.2", junk + ", 203.0.113.5"), TRUSTED) == (
        "203.0.113.5"
    )


@pytest.mark.parametrize(
    "forwarded",
    ["not-an-ip", "203.0.113.5, ", "203.0.113.5,,10.0.0.3", "203.0.113.5:443", "\x00", ""],
)
def test_malformed_entry_the_walk_reaches_is_a_value_error(
    exercise: ModuleType, forwarded: str
) -> None:
    """Our proxy never writes an empty entry, a port or a name: ValueError (the app answers
    400), not a guess and not a crash of another kind."""
    with pytest.raises(ValueError):  # noqa: PT011 — any message will do
        exercise.client_ip(request("10.0.0.2", forwarded), TRUSTED)


@pytest.mark.parametrize("peer", [None, "testclient", ""])
def test_missing_or_malformed_peer_is_a_value_error(exercise: ModuleType, peer: str | None) -> None:
    """No peer (request.client is None) or a peer that is not an address: ValueError."""
    with pytest.raises(ValueError):  # noqa: PT011
        exercise.client_ip(request(peer), TRUSTED)


@pytest.mark.parametrize("trusted", [["10.0.0.0/33"], ["proxy.internal"], "10.0.0.1"])
def test_bad_trusted_list_is_a_value_error(exercise: ModuleType, trusted: object) -> None:
    """A typo in the configuration must not silently trust nobody — or, as a string iterated
    character by character, something else entirely."""
    with pytest.raises(ValueError):  # noqa: PT011
        exercise.client_ip(request("10.0.0.2", "203.0.113.5"), trusted)
