"""The reference registry and resolver (``reference.microservices.discovery``) against real etcd.

The issue's test first: three service processes (1 s heartbeat, 3 s TTL), one killed with SIGKILL →
gone once its lease runs out; one stopped with SIGTERM → gone at once; the host is never empty.
Then balancing, hostile input, etcd down or hung, a watch that breaks, health-gated heartbeats.
Deadlines below are generous "eventually" bounds for a loaded runner, never speed claims.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from collections.abc import Callable

import pytest

from course.testing.discovery import ServiceStarter
from reference.config import REPO_ROOT
from reference.microservices.discovery import (
    InvalidInstance,
    NoInstances,
    Registration,
    RegistryUnavailable,
    Resolver,
    resolve_once,
)
from reference.microservices.etcd import ScratchEtcd, etcd_client

EVENTUALLY = 15.0  # seconds: "eventually" on a loaded 2-core runner


def ids(resolver: Resolver) -> set[str]:
    return {instance.id for instance in resolver.instances()}


def test_killed_instance_expires_stopped_one_leaves_at_once_hosts_never_empty(
    etcd_url: str, etcd_prefix: str, instance_processes: ServiceStarter
) -> None:
    with Resolver(etcd_url, "users", prefix=etcd_prefix) as resolver:
        processes = {
            f"u{i}": instance_processes(
                "users", f"u{i}", 9000 + i, etcd_url=etcd_url, prefix=etcd_prefix
            )
            for i in range(3)
        }
        assert resolver.wait_for(lambda xs: len(xs) == 3, EVENTUALLY), ids(resolver)
        assert all(i.address == "127.0.0.1" for i in resolver.instances())

        processes["u0"].send_signal(signal.SIGKILL)
        processes["u0"].wait(10)
        # Still listed right after the kill: only the lease's expiry can remove it.
        assert "u0" in {i.id for i in resolve_once(etcd_url, "users", prefix=etcd_prefix)}
        assert resolver.wait_for(lambda xs: "u0" not in {i.id for i in xs}, EVENTUALLY)

        processes["u1"].send_signal(signal.SIGTERM)
        assert processes["u1"].wait(10) == -signal.SIGTERM
        # Gone at once: the graceful stop revoked the lease before the process exited.
        assert {i.id for i in resolve_once(etcd_url, "users", prefix=etcd_prefix)} == {"u2"}
        assert resolver.wait_for(lambda xs: {i.id for i in xs} == {"u2"}, EVENTUALLY)
        # The survivor has outlived its 3 s TTL: its heartbeat works.
        (survivor,) = resolver.instances()
        assert survivor.address == "127.0.0.1"
        assert survivor.port > 0


def test_round_robin_spreads_evenly_over_live_instances(etcd_url: str, etcd_prefix: str) -> None:
    registrations = [
        Registration(etcd_url, "orders", f"o{i}", "127.0.0.1", 9100 + i, prefix=etcd_prefix)
        for i in range(3)
    ]
    with Resolver(etcd_url, "orders", prefix=etcd_prefix) as resolver:
        for registration in registrations:
            registration.start()
        assert resolver.wait_for(lambda xs: len(xs) == 3, EVENTUALLY)
        counts = Counter(resolver.resolve().port for _ in range(300))
        assert counts == {9100: 100, 9101: 100, 9102: 100}
        registrations[1].stop()
        assert resolver.wait_for(lambda xs: len(xs) == 2, EVENTUALLY)
        assert Counter(resolver.resolve().port for _ in range(100)) == {9100: 50, 9102: 50}
        for registration in registrations:
            registration.stop()
        assert resolver.wait_for(lambda xs: not xs, EVENTUALLY)
        with pytest.raises(NoInstances, match="no live instance of 'orders'"):
            resolver.resolve()


BAD_REGISTRATIONS: list[tuple[str, dict[str, object]]] = [
    ("name", {"name": ""}),
    ("name", {"name": "us\0ers"}),
    ("name", {"name": "u" * 100_000}),
    ("name", {"name": "a/b"}),
    ("name", {"name": 7}),
    ("instance id", {"instance_id": ""}),
    ("instance id", {"instance_id": "../x"}),
    ("instance id", {"instance_id": "i" * 10_000}),
    ("address", {"address": ""}),
    ("bind address", {"address": "0.0.0.0"}),  # noqa: S104 - the refused value under test
    ("bind address", {"address": "::"}),
    ("does not resolve", {"address": "no-such-host.invalid"}),
    ("address", {"address": "a\0b"}),
    ("port", {"port": 0}),
    ("port", {"port": 65536}),
    ("port", {"port": -1}),
    ("port", {"port": True}),
    ("port", {"port": "80"}),
    ("port", {"port": 80.5}),
    ("ttl", {"ttl": 0}),
    ("ttl", {"ttl": 10**9}),
    ("ttl", {"ttl": float("nan")}),
    ("heartbeat", {"heartbeat": float("nan")}),
    ("heartbeat", {"heartbeat": float("inf")}),
    ("heartbeat", {"heartbeat": 0.01}),
    ("heartbeat", {"heartbeat": 2.0}),  # more than half the 3 s TTL
    ("prefix", {"prefix": "no-slashes"}),
    ("prefix", {"prefix": "/a\0/"}),
]


@pytest.mark.parametrize(("message", "bad"), BAD_REGISTRATIONS)
def test_hostile_registrations_are_refused_before_touching_etcd(
    etcd_url: str, etcd_prefix: str, message: str, bad: dict[str, object]
) -> None:
    arguments: dict[str, object] = {
        "name": "users",
        "instance_id": "u1",
        "address": "127.0.0.1",
        "port": 9000,
        "prefix": etcd_prefix,
    }
    arguments.update(bad)
    with pytest.raises(InvalidInstance, match=message):
        Registration(etcd_url, **arguments)  # type: ignore[arg-type]
    assert etcd_client(etcd_url).get_prefix(etcd_prefix) == []


def test_localhost_is_registered_as_the_address_clients_reach(
    etcd_url: str, etcd_prefix: str
) -> None:
    with Registration(etcd_url, "users", "u1", "localhost", 9000, prefix=etcd_prefix) as reg:
        ((value, meta),) = etcd_client(etcd_url).get_prefix(etcd_prefix)
        assert json.loads(value)["address"] == "127.0.0.1"
        assert int(meta["lease"]) == reg.lease_id


def test_a_second_live_instance_with_the_same_id_is_refused(
    etcd_url: str, etcd_prefix: str
) -> None:
    with Registration(etcd_url, "users", "u1", "127.0.0.1", 9000, prefix=etcd_prefix):
        twin = Registration(etcd_url, "users", "u1", "127.0.0.1", 9001, prefix=etcd_prefix)
        with pytest.raises(InvalidInstance, match="already registered"):
            twin.start()
        ((value, _meta),) = etcd_client(etcd_url).get_prefix(etcd_prefix)
        assert json.loads(value)["port"] == 9000


def test_malformed_entries_are_never_served(etcd_url: str, etcd_prefix: str) -> None:
    client = etcd_client(etcd_url)
    client.put(f"{etcd_prefix}users/garbage", "{not json")
    # The guide's registration: no address at all.
    client.put(f"{etcd_prefix}users/guide", json.dumps({"name": "users", "id": "g", "port": 1}))
    client.put(
        f"{etcd_prefix}users/empty",
        json.dumps({"name": "users", "id": "e", "address": "", "port": 1}),
    )
    with Resolver(etcd_url, "users", prefix=etcd_prefix) as resolver:
        with pytest.raises(NoInstances):
            resolver.resolve()
        with Registration(etcd_url, "users", "ok", "127.0.0.1", 9000, prefix=etcd_prefix):
            assert resolver.wait_for(lambda xs: len(xs) == 1, EVENTUALLY)
            assert {resolver.resolve().id for _ in range(10)} == {"ok"}


def test_etcd_down_is_a_clear_error_not_a_hang(dead_url: str) -> None:
    with pytest.raises(RegistryUnavailable, match="etcd unavailable while registering"):
        Registration(dead_url, "users", "u1", "127.0.0.1", 9000).start()
    with pytest.raises(RegistryUnavailable, match="etcd unavailable while listing"):
        Resolver(dead_url, "users").start()


def test_a_hung_etcd_times_out(scratch_etcd: ScratchEtcd) -> None:
    assert scratch_etcd.process is not None
    os.kill(scratch_etcd.process.pid, signal.SIGSTOP)
    try:
        with pytest.raises(RegistryUnavailable):
            Registration(scratch_etcd.url, "users", "u1", "127.0.0.1", 9000, timeout=0.5).start()
        with pytest.raises(RegistryUnavailable):
            Resolver(scratch_etcd.url, "users", timeout=0.5).start()
    finally:
        os.kill(scratch_etcd.process.pid, signal.SIGCONT)


def test_a_broken_watch_reconnects_and_catches_up(scratch_etcd: ScratchEtcd) -> None:
    url = scratch_etcd.url
    with (
        Resolver(url, "users", prefix="/rc/") as resolver,
        Registration(url, "users", "a", "127.0.0.1", 9000, prefix="/rc/"),
    ):
        assert resolver.wait_for(lambda xs: len(xs) == 1, EVENTUALLY)
        scratch_etcd.kill()  # every watch stream breaks mid-read
        scratch_etcd.start()
        with Registration(url, "users", "b", "127.0.0.1", 9001, prefix="/rc/"):
            assert resolver.wait_for(lambda xs: {i.id for i in xs} == {"a", "b"}, EVENTUALLY)
        assert resolver.reconnects >= 1
        assert resolver.wait_for(lambda xs: {i.id for i in xs} == {"a"}, EVENTUALLY)


def test_a_lease_lost_behind_its_back_is_registered_again(etcd_url: str, etcd_prefix: str) -> None:
    with (
        Resolver(etcd_url, "users", prefix=etcd_prefix) as resolver,
        Registration(
            etcd_url, "users", "u1", "127.0.0.1", 9000, prefix=etcd_prefix, heartbeat=0.5
        ) as registration,
    ):
        assert resolver.wait_for(lambda xs: len(xs) == 1, EVENTUALLY)
        old = registration.lease_id
        etcd_client(etcd_url).post(
            etcd_client(etcd_url).get_url("/kv/lease/revoke"), json={"ID": old}
        )
        assert resolver.wait_for(lambda xs: not xs, EVENTUALLY)
        assert resolver.wait_for(lambda xs: len(xs) == 1, EVENTUALLY)
        # The key can be back a moment before the heartbeat thread records its new lease.
        assert _poll(lambda: registration.lease_id != old, EVENTUALLY)


def test_an_unhealthy_instance_stops_beating_and_drops_out(etcd_url: str, etcd_prefix: str) -> None:
    healthy = [True]
    with (
        Resolver(etcd_url, "users", prefix=etcd_prefix) as resolver,
        Registration(
            etcd_url,
            "users",
            "u1",
            "127.0.0.1",
            9000,
            prefix=etcd_prefix,
            ttl=2,
            heartbeat=0.5,
            health=lambda: healthy[0],
        ),
    ):
        assert resolver.wait_for(lambda xs: len(xs) == 1, EVENTUALLY)
        healthy[0] = False
        assert resolver.wait_for(lambda xs: not xs, EVENTUALLY)
        healthy[0] = True
        assert resolver.wait_for(lambda xs: len(xs) == 1, EVENTUALLY)


SIGTERM_CHILD = textwrap.dedent(
    """
    import sys, time
    from reference.microservices.discovery import Registration, deregister_on_sigterm
    registration = Registration(sys.argv[1], "users", "plain", "127.0.0.1", 9000,
                                prefix=sys.argv[2]).start()
    deregister_on_sigterm(registration)
    print("registered", flush=True)
    time.sleep(60)
    """
)


def test_deregister_on_sigterm_in_a_plain_process(etcd_url: str, etcd_prefix: str) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", SIGTERM_CHILD, etcd_url, etcd_prefix],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "registered"
        assert len(etcd_client(etcd_url).get_prefix(etcd_prefix)) == 1
        child.send_signal(signal.SIGTERM)
        assert child.wait(10) == -signal.SIGTERM  # still dies of SIGTERM, as before
        assert etcd_client(etcd_url).get_prefix(etcd_prefix) == []
    finally:
        child.kill()
        child.wait(10)
        if child.stdout is not None:
            child.stdout.close()


def _poll(check: Callable[[], bool], deadline: float) -> bool:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.05)
    return check()


@pytest.mark.parametrize(
    ("url", "timeout", "message"),
    [
        ("not a url", 1.0, "not an etcd URL"),
        ("ftp://127.0.0.1:12379", 1.0, "not an etcd URL"),
        ("http://127.0.0.1", 1.0, "not an etcd URL"),
        ("http://127.0.0.1:99999", 1.0, "not an etcd URL"),
        ("http://127.0.0.1:12379", float("nan"), "timeout"),
        ("http://127.0.0.1:12379", -1.0, "timeout"),
        ("http://127.0.0.1:12379", float("inf"), "timeout"),
    ],
)
def test_hostile_client_settings_are_value_errors(url: str, timeout: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        etcd_client(url, timeout)


@pytest.mark.parametrize(
    ("name", "prefix"), [("", "/services/"), ("a\0b", "/services/"), ("users", "services")]
)
def test_a_resolver_refuses_hostile_names_and_prefixes(
    etcd_url: str, name: str, prefix: str
) -> None:
    with pytest.raises(InvalidInstance):
        Resolver(etcd_url, name, prefix=prefix)


def test_a_bare_instance_with_a_bad_address_is_a_one_line_error(
    etcd_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from reference.microservices.discovery import main

    assert main(["users", "u1", "0.0.0.0", "9000", "--etcd-url", etcd_url]) == 2  # noqa: S104
    assert "bind address" in capsys.readouterr().err
