"""Grading for exercise 04.2: a registry entry that lives exactly as long as its instance
(exercises/04_microservices/service_registry.py).

Graded by what is in etcd — the key, its value, the lease it is bound to and that lease's TTL — while
the instance runs, after ``stop()``, after SIGTERM and after SIGKILL of a real process. "Eventually"
deadlines are generous (a loaded runner); "at once" means the key is gone when the process has exited.
"""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
from etcd3gw.client import Etcd3Client

from reference.microservices.etcd import etcd_client

EVENTUALLY = 15.0


@pytest.fixture
def client(etcd_url: str) -> Iterator[Etcd3Client]:
    etcd = etcd_client(etcd_url)
    yield etcd
    etcd.session.close()


@pytest.fixture
def started(exercise: ModuleType) -> Iterator[list[Any]]:
    """Registrations the test started; any still running are stopped afterwards."""
    registrations: list[Any] = []
    yield registrations
    for registration in registrations:
        with contextlib.suppress(Exception):  # already stopped, or the test broke it
            registration.stop()


def entries(client: Etcd3Client, prefix: str) -> dict[str, tuple[dict[str, Any], int]]:
    """key → (JSON value, lease id) for every key under ``prefix``."""
    found = {}
    for value, meta in client.get_prefix(prefix):
        found[meta["key"].decode()] = (json.loads(value), int(meta.get("lease", 0)))
    return found


def register(exercise: ModuleType, started: list[Any], *args: Any, **kwargs: Any) -> Any:
    """Construct and start a registration (either may refuse), kept for the teardown's stop()."""
    registration = exercise.ServiceRegistration(*args, **kwargs)
    started.append(registration)
    registration.start()
    return registration


def granted_ttl(client: Etcd3Client, lease_id: int) -> int:
    answer = client.post(client.get_url("/kv/lease/timetolive"), json={"ID": lease_id})
    return int(answer.get("grantedTTL", 0))


def test_entry_names_the_address_and_port_under_a_lease_of_ttl(
    exercise: ModuleType, client: Etcd3Client, etcd_prefix: str, started: list[Any]
) -> None:
    """The value carries the address given (never empty, never one fixed address) and the port,
    and the key is bound to a lease granted for exactly ``ttl`` seconds (3 and 5, not a constant)."""
    for instance_id, address, port, ttl in (
        ("a", "127.0.0.1", 9001, 3),
        ("b", "127.0.0.7", 9002, 5),
    ):
        registration = exercise.ServiceRegistration(
            client, etcd_prefix, "users", instance_id, address, port, ttl=ttl, heartbeat=1.0
        )
        started.append(registration)
        registration.start()
    found = entries(client, etcd_prefix)
    assert set(found) == {f"{etcd_prefix}users/a", f"{etcd_prefix}users/b"}
    value, lease = found[f"{etcd_prefix}users/b"]
    assert value == {"name": "users", "id": "b", "address": "127.0.0.7", "port": 9002}
    assert found[f"{etcd_prefix}users/a"][0]["address"] == "127.0.0.1"
    assert lease != 0, "the key is bound to no lease: it never expires"
    ttls = {granted_ttl(client, lease) for _value, lease in found.values()}
    assert ttls == {3, 5}, f"leases granted for {sorted(ttls)} s, not exactly ttl (3 and 5)"


# "::0" is "::" spelled otherwise; "0" is a host name that resolves to 0.0.0.0 (`--host 0`); a
# name that resolves to nothing (.invalid never does, RFC 6761) is a ValueError, not a gaierror.
@pytest.mark.parametrize(
    "address",
    ["", "0.0.0.0", "::", "::0", "0", "no-such-host.invalid"],  # noqa: S104 - refused
)
def test_an_address_no_client_can_reach_is_refused(
    exercise: ModuleType, client: Etcd3Client, etcd_prefix: str, started: list[Any], address: str
) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the message is the learner's
        register(exercise, started, client, etcd_prefix, "users", "a", address, 9000)
    assert entries(client, etcd_prefix) == {}


@pytest.mark.parametrize("host", ["localhost", "LOCALHOST"])  # resolved, not looked up in a table
def test_a_host_name_is_stored_as_the_ip_clients_reach(
    exercise: ModuleType, client: Etcd3Client, etcd_prefix: str, started: list[Any], host: str
) -> None:
    registration = exercise.ServiceRegistration(client, etcd_prefix, "users", "a", host, 9000)
    started.append(registration)
    registration.start()
    ((value, _lease),) = entries(client, etcd_prefix).values()
    assert value["address"] == "127.0.0.1"


@pytest.mark.parametrize(
    ("name", "instance_id", "port"),
    [
        ("", "a", 9000),
        ("us\0ers", "a", 9000),
        ("u" * 100_000, "a", 9000),
        ("a/b", "a", 9000),
        ("users\n", "a", 9000),
        ("users", "", 9000),
        ("users", "../x", 9000),
        ("users", "a\n", 9000),
        ("users", "a", 0),
        ("users", "a", 65536),
        ("users", "a", -1),
        ("users", "a", True),
        ("users", "a", "9000"),
        ("users", "a", 9000.0),
    ],
)
def test_hostile_names_and_ports_are_refused_before_writing(
    exercise: ModuleType,
    client: Etcd3Client,
    etcd_prefix: str,
    started: list[Any],
    name: object,
    instance_id: object,
    port: object,
) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the message is the learner's
        register(exercise, started, client, etcd_prefix, name, instance_id, "127.0.0.1", port)
    assert entries(client, etcd_prefix) == {}


def test_stop_deregisters_at_once(
    exercise: ModuleType, client: Etcd3Client, etcd_prefix: str, started: list[Any]
) -> None:
    """stop() removes the key now (the lease revoked), not when a TTL runs out."""
    registration = exercise.ServiceRegistration(
        client, etcd_prefix, "users", "a", "127.0.0.1", 9000
    )
    started.append(registration)
    registration.start()
    ((_value, lease),) = entries(client, etcd_prefix).values()
    registration.stop()
    assert entries(client, etcd_prefix) == {}, "still registered after stop()"
    assert granted_ttl(client, lease) == 0, "the lease outlived stop(): revoke it"


CHILD = """
import importlib.util, sys, time
spec = importlib.util.spec_from_file_location("learner", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
from reference.microservices.etcd import etcd_client
registration = module.ServiceRegistration(
    etcd_client(sys.argv[2]), sys.argv[3], "users", sys.argv[4], "127.0.0.1", 9000,
    ttl=int(sys.argv[5]), heartbeat=float(sys.argv[6]),
)
registration.start()
registration.stop_on_sigterm()
print("registered", flush=True)
time.sleep(60)
"""


def child(
    exercise: ModuleType, etcd_url: str, prefix: str, instance_id: str, ttl: int = 3
) -> subprocess.Popen[str]:
    """A real instance process (heartbeat every ttl/4), returned once it says it has registered."""
    assert exercise.__file__ is not None
    arguments = [exercise.__file__, etcd_url, prefix, instance_id, str(ttl), str(ttl / 4)]
    process = subprocess.Popen(
        [sys.executable, "-c", CHILD, *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if line.strip() != "registered":
        process.kill()
        _out, err = process.communicate(timeout=10)
        if "NotImplementedError" in err:
            raise NotImplementedError(f"the instance process: {err[-500:]}")
        pytest.fail(f"the instance process did not register: {err[-2000:]}")
    return process


def test_sigterm_deregisters_before_the_process_ends(
    exercise: ModuleType, client: Etcd3Client, etcd_url: str, etcd_prefix: str
) -> None:
    process = child(exercise, etcd_url, etcd_prefix, "graceful")
    try:
        assert set(entries(client, etcd_prefix)) == {f"{etcd_prefix}users/graceful"}
        process.send_signal(signal.SIGTERM)
        process.wait(10)
        assert entries(client, etcd_prefix) == {}, (
            "the instance exited on SIGTERM but is still registered (until its TTL runs out)"
        )
        assert process.returncode == -signal.SIGTERM, (
            f"exit status {process.returncode}: after deregistering, end as SIGTERM would"
            " (an orchestrator reads a clean exit 0 as 'finished', not 'terminated')"
        )
    finally:
        process.kill()
        process.communicate(timeout=10)


def test_heartbeat_keeps_a_live_instance_and_a_killed_one_expires(
    exercise: ModuleType, client: Etcd3Client, etcd_url: str, etcd_prefix: str, started: list[Any]
) -> None:
    """A live instance (0.5 s heartbeat, 3 s TTL) is still registered past its TTL; one killed with
    SIGKILL (no chance to deregister) disappears once its lease (2 s) runs out."""
    register(
        exercise, started, client, etcd_prefix, "users", "live", "127.0.0.1", 9001,
        ttl=3, heartbeat=0.5,
    )  # fmt: skip
    registered_at = time.monotonic()
    process = child(exercise, etcd_url, etcd_prefix, "killed", ttl=2)
    try:
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    finally:
        process.communicate(timeout=10)
    killed = f"{etcd_prefix}users/killed"
    deadline = time.monotonic() + EVENTUALLY
    while killed in entries(client, etcd_prefix):
        assert time.monotonic() < deadline, "a killed instance is still registered after 15 s"
        time.sleep(0.1)
    # 4 s after it registered, the live one has outlived its 3 s TTL: only heartbeats do that (and
    # one beat late by up to 2.5 s still keeps it).
    time.sleep(max(0.0, registered_at + 4.0 - time.monotonic()))
    assert f"{etcd_prefix}users/live" in entries(client, etcd_prefix), (
        "a live instance expired: its lease is not being kept alive"
    )
