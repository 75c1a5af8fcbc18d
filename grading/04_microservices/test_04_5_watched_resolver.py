"""Grading for exercise 04.5: resolve from a watched cache, round-robin over the live instances
(exercises/04_microservices/watched_resolver.py).

Graded against an etcd of the module's own (``quiet_etcd_url``), so etcd's count of the range requests
it served (``etcd_debugging_mvcc_range_total``) is this test's traffic alone: resolutions must not
move it. Instances are registered by the grader with real leases; a deregistration is a lease
revocation — the same delete event a lease that runs out produces. "Eventually" deadlines are
generous (a loaded runner), never speed claims.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import httpx
import pytest
from etcd3gw.client import Etcd3Client
from etcd3gw.lease import Lease

from reference.microservices.etcd import etcd_client, range_total

EVENTUALLY = 8.0  # a watch event arrives in milliseconds; this is for a loaded runner


@pytest.fixture
def client(quiet_etcd_url: str) -> Iterator[Etcd3Client]:
    etcd = etcd_client(quiet_etcd_url)
    yield etcd
    etcd.session.close()


@pytest.fixture
def prefix() -> str:
    return f"/g{uuid.uuid4().hex[:8]}/"


@pytest.fixture
def resolvers(exercise: ModuleType) -> Iterator[list[Any]]:
    """Resolvers the test made; each is closed afterwards."""
    made: list[Any] = []
    yield made
    for resolver in made:
        with contextlib.suppress(Exception):
            resolver.close()


def started(exercise: ModuleType, resolvers: list[Any], client: Etcd3Client, prefix: str) -> Any:
    resolver = exercise.WatchedResolver(client, prefix, "users")
    resolvers.append(resolver)
    resolver.start()
    return resolver


def register(client: Etcd3Client, prefix: str, instance_id: str, port: int) -> Lease:
    lease = client.lease(30)
    value = {"name": "users", "id": instance_id, "address": "127.0.0.1", "port": port}
    client.put(f"{prefix}users/{instance_id}", json.dumps(value), lease=lease)
    return lease


def answers(resolver: Any, n: int) -> Counter[tuple[str, int]]:
    return Counter(tuple(resolver.resolve()) for _ in range(n))


def eventually(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + EVENTUALLY
    while not check():
        assert time.monotonic() < deadline, f"{what} (still not after {EVENTUALLY:g} s)"
        time.sleep(0.05)


def test_round_robin_spreads_evenly(
    exercise: ModuleType, resolvers: list[Any], client: Etcd3Client, prefix: str
) -> None:
    """Three instances, 300 resolutions: each one 100 times (± 1). A random pick is uneven."""
    for i in range(3):
        register(client, prefix, f"u{i}", 9000 + i)
    resolver = started(exercise, resolvers, client, prefix)
    counts = answers(resolver, 300)
    assert set(counts) == {("127.0.0.1", 9000), ("127.0.0.1", 9001), ("127.0.0.1", 9002)}
    assert all(99 <= n <= 101 for n in counts.values()), f"not round-robin: {dict(counts)}"


def test_no_live_instance_is_a_lookup_error(
    exercise: ModuleType, resolvers: list[Any], client: Etcd3Client, prefix: str
) -> None:
    resolver = started(exercise, resolvers, client, prefix)
    with pytest.raises(LookupError):
        resolver.resolve()


def test_resolutions_read_nothing_from_etcd(
    exercise: ModuleType,
    resolvers: list[Any],
    client: Etcd3Client,
    prefix: str,
    quiet_etcd_url: str,
) -> None:
    """200 resolutions spread over a second: etcd serves at most one range request meanwhile
    (a read per call serves 200; a cache re-read on a timer, several)."""
    for i in range(3):
        register(client, prefix, f"u{i}", 9000 + i)
    resolver = started(exercise, resolvers, client, prefix)
    assert len(answers(resolver, 3)) == 3
    before = range_total(quiet_etcd_url)
    for _ in range(200):
        resolver.resolve()
        time.sleep(0.005)
    served = range_total(quiet_etcd_url) - before
    assert served <= 1, f"etcd served {served} range requests for 200 resolutions"


def test_a_re_registration_replaces_the_instance(
    exercise: ModuleType, resolvers: list[Any], client: Etcd3Client, prefix: str
) -> None:
    """The same key written again (a restart on a new port) is one instance, not two."""
    register(client, prefix, "u0", 9000)
    register(client, prefix, "u1", 9001)
    resolver = started(exercise, resolvers, client, prefix)
    register(client, prefix, "u1", 9011)
    eventually(
        lambda: ("127.0.0.1", 9011) in answers(resolver, 6),
        "the re-registered instance is never served on its new port",
    )
    counts = answers(resolver, 100)
    assert counts == {("127.0.0.1", 9000): 50, ("127.0.0.1", 9011): 50}, dict(counts)


def test_malformed_addressless_and_other_services_entries_are_never_returned(
    exercise: ModuleType, resolvers: list[Any], client: Etcd3Client, prefix: str
) -> None:
    """Never returned, whether there before start() or written after; and the watch survives
    each of them (the instance registered last still appears)."""
    client.put(f"{prefix}users/garbage", "{not json")
    guide = {"name": "users", "id": "g", "address": "", "port": 9009}  # the guide's registration
    client.put(f"{prefix}users/guide", json.dumps(guide))
    register(client, prefix, "ok", 9000)
    register(client, prefix, "turned", 9002)
    resolver = started(exercise, resolvers, client, prefix)
    client.put(f"{prefix}users/late-garbage", "[1, 2")
    client.put(f"{prefix}users/late-guide", json.dumps({**guide, "id": "lg"}))
    # Valid JSON that is no registration must not kill the watch; a port must be an int 1-65535.
    for key, raw in (("list", "[1, 2]"), ("null", "null"), ("number", "7")):
        client.put(f"{prefix}users/{key}", raw)
    for port in ("9000", 0, 70000, None, True):  # True is an int in Python, not port 1
        value = {"name": "users", "id": "p", "address": "127.0.0.1", "port": port}
        client.put(f"{prefix}users/port-{port}", json.dumps(value))
    # A registered instance whose entry is overwritten with garbage is no longer that instance.
    client.put(f"{prefix}users/turned", "{not json any more")
    # Other services under the same prefix, one whose name starts with "users", are not users.
    for other in ("orders/o1", "users-admin/a1"):
        value = {"name": other.split("/")[0], "id": "x", "address": "127.0.0.1", "port": 9500}
        client.put(f"{prefix}{other}", json.dumps(value))
    register(client, prefix, "ok2", 9001)
    eventually(lambda: len(answers(resolver, 4)) >= 2, "a new instance never appeared")
    assert set(answers(resolver, 50)) == {("127.0.0.1", 9000), ("127.0.0.1", 9001)}


def test_the_view_follows_registrations_and_deregistrations(
    exercise: ModuleType, resolvers: list[Any], client: Etcd3Client, prefix: str
) -> None:
    """Without restarting the resolver: a new instance is served, a deregistered one (its lease
    revoked, as when it stops or its lease runs out) never again."""
    first = register(client, prefix, "u0", 9000)
    resolver = started(exercise, resolvers, client, prefix)
    register(client, prefix, "u1", 9001)
    eventually(
        lambda: ("127.0.0.1", 9001) in answers(resolver, 4),
        "an instance registered after start() is never served: is the resolver watching?",
    )
    first.revoke()
    eventually(
        lambda: ("127.0.0.1", 9000) not in answers(resolver, 4),
        "a deregistered instance is still served",
    )
    assert set(answers(resolver, 50)) == {("127.0.0.1", 9001)}


def watchers(url: str) -> int:
    """etcd's gauge of the watchers open on it (``etcd_debugging_mvcc_watcher_total``)."""
    for line in httpx.get(f"{url}/metrics", timeout=10).text.splitlines():
        if line.startswith("etcd_debugging_mvcc_watcher_total "):
            return int(float(line.split()[1]))
    raise AssertionError("etcd's /metrics has no etcd_debugging_mvcc_watcher_total")


def test_close_stops_watching(
    exercise: ModuleType, resolvers: list[Any], client: Etcd3Client, quiet_etcd_url: str
) -> None:
    """Three resolvers hold three watchers in etcd; closed, they hold none (a close() that leaves
    the watch running leaks one per resolver ever made)."""
    before = watchers(quiet_etcd_url)
    made = [started(exercise, resolvers, client, f"/g{uuid.uuid4().hex[:8]}/") for _ in range(3)]
    eventually(lambda: watchers(quiet_etcd_url) >= before + 3, "the resolvers opened no watch")
    for resolver in made:
        resolver.close()
    eventually(lambda: watchers(quiet_etcd_url) <= before, "close() left its watch open in etcd")
