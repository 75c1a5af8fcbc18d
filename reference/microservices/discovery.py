"""Service discovery on etcd: leased registrations kept alive by heartbeats, and a watching resolver.

Pattern: a registry where an instance's entry lives only as long as the instance says it is alive.
The guide registers with Consul (``guide/microservices/consul.py`` is that code ported to etcd, its
defects included); etcd stands in for Consul here because Consul is not packaged where the course
runs, and etcd's leases, keep-alives and watches are the same ideas. Taught in
``notebooks/04_microservices_discovery.ipynb``; exercises 04.2 (the registration) and 04.5 (the
resolver).

What the guide gets wrong and this module does instead:

- *An address is always registered.* The guide registers no address, so a resolver gets an empty
  host. :func:`routable_address` refuses ``""``/``0.0.0.0``/``::`` (a bind address, not one anyone
  can connect to) and resolves a host name to the IP a client would reach.
- *Liveness is the instance's own heartbeat.* The guide's health check calls ``localhost`` on the
  agent's machine, not the instance. Here the key is bound to a lease (TTL) that the instance's
  keep-alive thread refreshes, optionally only while its own health function says so: a crashed or
  hung instance stops refreshing and etcd deletes its key when the lease runs out.
- *A stop deregisters at once.* :meth:`Registration.stop` revokes the lease (the key goes with it);
  :func:`deregister_on_sigterm` does that on SIGTERM before the process exits.
- *Resolution reads a watched cache, not the registry.* :class:`Resolver` lists the prefix once,
  then follows etcd's watch stream (puts and deletes, in order); it re-lists and re-watches when the
  stream breaks, and balances round-robin across the instances it currently knows.
"""

from __future__ import annotations

import base64
import contextlib
import ipaddress
import itertools
import json
import logging
import math
import re
import signal
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import FrameType
from typing import Any, Final

import requests
from etcd3gw.client import Etcd3Client
from etcd3gw.exceptions import Etcd3Exception
from etcd3gw.lease import Lease

from reference.microservices.etcd import DEFAULT_TIMEOUT, etcd_client

log = logging.getLogger(__name__)

DEFAULT_PREFIX: Final = "/services/"
NAME: Final = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")  # a DNS label: safe in keys, URLs and logs
INSTANCE_ID: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
PREFIX: Final = re.compile(r"/(?:[A-Za-z0-9._-]+/)*")
MIN_HEARTBEAT: Final = 0.3  # seconds: shorter ones starve on a loaded 2-core machine
WATCH_READ_TIMEOUT: Final = 6.0
"""Seconds of silence after which a watch stream counts as dead. etcd sends a progress notification
every 2 s on an idle stream (``course/services/native/etcd.py``), so a healthy stream is never this quiet."""


class DiscoveryError(Exception):
    """Base of this module's errors."""


class InvalidInstance(DiscoveryError, ValueError):
    """A name, id, address, port or timing that must not reach the registry."""


class RegistryUnavailable(DiscoveryError, ConnectionError):
    """etcd did not answer (down, refusing, or slower than the timeout)."""


class NoInstances(DiscoveryError, LookupError):
    """No live instance of the service is registered."""


@dataclass(frozen=True)
class Instance:
    """One registered instance: where to connect."""

    name: str
    id: str
    address: str
    port: int

    @property
    def url(self) -> str:
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"http://{host}:{self.port}"

    def to_json(self) -> str:
        return json.dumps(
            {"name": self.name, "id": self.id, "address": self.address, "port": self.port}
        )

    @classmethod
    def from_json(cls, raw: bytes | str) -> Instance:
        data = json.loads(raw)
        return cls(str(data["name"]), str(data["id"]), str(data["address"]), int(data["port"]))


# --- validation ---------------------------------------------------------------------------------


def check_name(name: object) -> str:
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise InvalidInstance(f"service name must be a DNS label (a-z, 0-9, -): {_short(name)}")
    return name


def check_instance_id(instance_id: object) -> str:
    if not isinstance(instance_id, str) or not INSTANCE_ID.fullmatch(instance_id):
        raise InvalidInstance(
            f"instance id must be 1-128 of A-Z a-z 0-9 . _ -: {_short(instance_id)}"
        )
    return instance_id


def check_port(port: object) -> int:
    # bool is an int in Python; True is not port 1.
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise InvalidInstance(f"port must be an integer 1-65535, not {_short(port)}")
    return port


def check_prefix(prefix: object) -> str:
    if not isinstance(prefix, str) or len(prefix) > 256 or not PREFIX.fullmatch(prefix):
        raise InvalidInstance(f"prefix must look like /a/b/ (slash-delimited): {_short(prefix)}")
    return prefix


def routable_address(address: object) -> str:
    """The IP address clients should connect to for ``address``; refuses what no client can reach.

    ``""`` (the guide's missing address), ``0.0.0.0`` and ``::`` (listen-on-everything bind
    addresses) are refused; a host name (``localhost``) is resolved to its IP address, so every
    resolver sees the same address whatever its own resolver configuration.
    """
    if not isinstance(address, str) or not address or len(address) > 253 or "\0" in address:
        raise InvalidInstance(f"address must be a reachable host or IP, not {_short(address)}")
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        try:
            infos = socket.getaddrinfo(address, None, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as error:
            raise InvalidInstance(f"address {address!r} does not resolve ({error})") from None
        ip = ipaddress.ip_address(infos[0][4][0])
    if ip.is_unspecified:
        raise InvalidInstance(
            f"{address!r} is a bind address (every interface), not one a client can connect to: "
            "register the address clients should use"
        )
    return str(ip)


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _check_timing(ttl: object, heartbeat: object) -> tuple[int, float]:
    # etcd leases are whole seconds; its minimum effective TTL is about 2 s.
    if isinstance(ttl, bool) or not isinstance(ttl, int) or not 2 <= ttl <= 3600:
        raise InvalidInstance(f"ttl must be whole seconds 2-3600, not {_short(ttl)}")
    if (
        isinstance(heartbeat, bool)
        or not isinstance(heartbeat, (int, float))
        or not math.isfinite(heartbeat)
        or not MIN_HEARTBEAT <= heartbeat <= ttl / 2
    ):
        raise InvalidInstance(
            f"heartbeat must be {MIN_HEARTBEAT}-{ttl / 2} s (at most half the ttl, so one late "
            f"beat does not expire the lease), not {_short(heartbeat)}"
        )
    return ttl, float(heartbeat)


@contextlib.contextmanager
def _etcd_errors(action: str) -> Iterator[None]:
    try:
        yield
    except (Etcd3Exception, requests.RequestException) as error:
        raise RegistryUnavailable(f"etcd unavailable while {action}: {error!r}") from None


def instance_key(prefix: str, name: str, instance_id: str) -> str:
    return f"{prefix}{name}/{instance_id}"


# --- registration -------------------------------------------------------------------------------


class Registration:
    """One instance's entry in the registry, leased and kept alive until :meth:`stop`.

    ``health`` (optional) is the instance's own check, called before each heartbeat: while it says
    unhealthy the lease is not refreshed, so an instance that is up but broken drops out within the
    TTL — without anyone probing ``localhost`` from another machine.
    """

    def __init__(
        self,
        etcd_url: str,
        name: str,
        instance_id: str,
        address: str,
        port: int,
        *,
        prefix: str = DEFAULT_PREFIX,
        ttl: int = 3,
        heartbeat: float = 1.0,
        health: Callable[[], bool] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.instance = Instance(
            check_name(name), check_instance_id(instance_id), routable_address(address),
            check_port(port),
        )  # fmt: skip
        self.key = instance_key(check_prefix(prefix), name, instance_id)
        self.ttl, self.heartbeat = _check_timing(ttl, heartbeat)
        self.health = health
        self._client: Etcd3Client = etcd_client(etcd_url, timeout)
        self._lease: Lease | None = None
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self.beats = 0  # successful keep-alives, for tests and the notebook
        self.last_error: str | None = None

    @property
    def lease_id(self) -> int | None:
        return None if self._lease is None else self._lease.id

    def start(self) -> Registration:
        """Grant a lease, write the key under it and start the heartbeat; raises if etcd is down
        or another live instance already holds this id."""
        self._put(create=True)
        self._thread = threading.Thread(
            target=self._keep_alive, name=f"heartbeat {self.key}", daemon=True
        )
        self._thread.start()
        return self

    def _put(self, *, create: bool) -> None:
        with _etcd_errors(f"registering {self.key}"):
            lease = self._client.lease(self.ttl)
            if create:
                written = self._client.create(self.key, self.instance.to_json(), lease=lease)
            else:
                written = self._client.put(self.key, self.instance.to_json(), lease=lease)
        if not written:
            with contextlib.suppress(Etcd3Exception, requests.RequestException):
                lease.revoke()
            raise InvalidInstance(f"{self.key} is already registered by a live instance")
        self._lease = lease

    def _keep_alive(self) -> None:
        while not self._stopped.wait(self.heartbeat):
            if self.health is not None and not self._healthy():
                continue  # no beat: the lease runs out and etcd drops the key
            try:
                assert self._lease is not None
                if self._lease.refresh() <= 0:
                    # The lease expired (the process was paused past the TTL, or etcd lost it):
                    # register again rather than beat a lease that is gone.
                    self._put(create=False)
                self.beats += 1
                self.last_error = None
            except (DiscoveryError, Etcd3Exception, requests.RequestException) as error:
                # etcd is down or slow: keep trying every beat; the key expires meanwhile, and a
                # beat that succeeds again re-registers.
                self.last_error = repr(error)
                log.warning("heartbeat for %s failed: %r", self.key, error)

    def _healthy(self) -> bool:
        assert self.health is not None
        try:
            return bool(self.health())
        except Exception:  # noqa: BLE001 - a raising health check is an unhealthy instance
            return False

    def stop(self) -> None:
        """Deregister now: stop the heartbeat and revoke the lease, which deletes the key at once.

        Idempotent; an unreachable etcd is logged, not raised (the lease then expires by itself).
        """
        self._stopped.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(self._client.timeout or DEFAULT_TIMEOUT)
        lease, self._lease = self._lease, None
        if lease is not None:
            try:
                lease.revoke()
            except (Etcd3Exception, requests.RequestException) as error:
                log.warning("could not revoke %s's lease (it expires in %s s): %r", self.key,
                            self.ttl, error)  # fmt: skip
        self._client.session.close()

    def __enter__(self) -> Registration:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def deregister_on_sigterm(registration: Registration) -> None:
    """On SIGTERM, deregister first, then do what SIGTERM did before (by default: exit).

    Must be called from the main thread (Python delivers signals there). A server framework with
    its own graceful shutdown (uvicorn) should deregister in that shutdown instead:
    :mod:`reference.microservices.services` does it in the app's lifespan.
    """
    previous = signal.getsignal(signal.SIGTERM)

    def handler(signum: int, frame: FrameType | None) -> None:
        registration.stop()
        if callable(previous):
            previous(signum, frame)
        elif previous == signal.SIG_IGN:
            return
        else:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.raise_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, handler)


# --- resolution ---------------------------------------------------------------------------------


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _prefix_end(prefix: str) -> str:
    # etcd's range end for "every key starting with prefix": the prefix with its last byte + 1.
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


class Resolver:
    """Live instances of one service from a watched cache; :meth:`resolve` balances round-robin.

    :meth:`start` lists the service's keys once (one range request) and then follows etcd's watch
    stream from the next revision: a registration appears, a deregistration or expired lease
    disappears, without any read per resolution. A broken stream (etcd restarted, connection cut,
    no progress notification within ``WATCH_READ_TIMEOUT``) is re-listed and re-watched with a
    backoff; meanwhile the last known instances are served.
    """

    def __init__(
        self,
        etcd_url: str,
        name: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        timeout: float = DEFAULT_TIMEOUT,
        read_timeout: float = WATCH_READ_TIMEOUT,
    ) -> None:
        self.name = check_name(name)
        self.service_prefix = f"{check_prefix(prefix)}{name}/"
        self._client: Etcd3Client = etcd_client(etcd_url, timeout)
        self._read_timeout = read_timeout
        self._lock = threading.Lock()
        self._instances: dict[str, Instance] = {}
        self._order: list[Instance] = []
        self._turn = itertools.count()
        self._stopped = threading.Event()
        self._stream: requests.Response | None = None
        self._thread: threading.Thread | None = None
        self.reconnects = 0  # watch streams re-established after a break
        self.changed = threading.Condition(self._lock)  # notified on every cache change

    def start(self) -> Resolver:
        """List the instances and start watching; raises :class:`RegistryUnavailable` if etcd is down."""
        revision = self.list_now()
        self._thread = threading.Thread(
            target=self._follow, args=(revision,), name=f"watch {self.service_prefix}", daemon=True
        )
        self._thread.start()
        return self

    def instances(self) -> list[Instance]:
        with self._lock:
            return list(self._order)

    def resolve(self) -> Instance:
        """The next live instance in turn; :class:`NoInstances` when none is registered."""
        with self._lock:
            if not self._order:
                raise NoInstances(f"no live instance of {self.name!r} is registered")
            return self._order[next(self._turn) % len(self._order)]

    def wait_for(self, predicate: Callable[[list[Instance]], bool], timeout: float) -> bool:
        """Block until ``predicate(instances)`` holds or ``timeout`` passes; returns whether it held."""
        with self.changed:
            return self.changed.wait_for(lambda: predicate(list(self._order)), timeout)

    def close(self) -> None:
        self._stopped.set()
        self._abort_stream()
        if self._thread is not None:
            self._thread.join(2.0)
        self._client.session.close()

    def __enter__(self) -> Resolver:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # The cache: a dict by key, and a sorted list for a stable round-robin order.
    def _replace(self, instances: dict[str, Instance]) -> None:
        with self._lock:
            self._instances = instances
            self._order = sorted(instances.values(), key=lambda i: i.id)
            self.changed.notify_all()

    def _apply(self, event: dict[str, Any]) -> None:
        kv = event["kv"]
        key = base64.b64decode(kv["key"]).decode()
        instances = dict(self._instances)
        if event.get("type") == "DELETE":
            instances.pop(key, None)
        else:  # PUT: proto3's JSON leaves the default enum value (PUT = 0) out
            instance = self._parse(key, base64.b64decode(kv.get("value", "")))
            if instance is None:
                return
            instances[key] = instance
        self._replace(instances)

    def _parse(self, key: str, raw: bytes) -> Instance | None:
        # A malformed entry (another writer, an old format) is skipped, never served.
        try:
            instance = Instance.from_json(raw)
            routable_address(instance.address)
            check_port(instance.port)
        except (ValueError, KeyError, TypeError, InvalidInstance) as error:
            log.warning("skipping malformed registry entry %s: %r", key, error)
            return None
        return instance

    def list_now(self) -> int:
        """Read the instances from etcd now (one range request) into the cache; returns the revision."""
        with _etcd_errors(f"listing {self.service_prefix}"):
            response = self._client.post(
                self._client.get_url("/kv/range"),
                json={
                    "key": _b64(self.service_prefix),
                    "range_end": _b64(_prefix_end(self.service_prefix)),
                },
            )
        instances: dict[str, Instance] = {}
        for kv in response.get("kvs", []):
            key = base64.b64decode(kv["key"]).decode()
            instance = self._parse(key, base64.b64decode(kv.get("value", "")))
            if instance is not None:
                instances[key] = instance
        self._replace(instances)
        return int(response["header"]["revision"])

    def _follow(self, revision: int) -> None:
        backoff = 0.2
        while not self._stopped.is_set():
            try:
                self._watch(revision + 1)
            except Exception as error:  # noqa: BLE001 - the watch thread must outlive any break
                # (a closed socket surfaces from urllib3 as anything, even AttributeError)
                if self._stopped.is_set():
                    return
                log.info("watch on %s broke (%r); re-listing", self.service_prefix, error)
            if self._stopped.wait(backoff):
                return
            backoff = min(backoff * 2, 2.0)
            try:
                revision = self.list_now()
            except RegistryUnavailable:
                continue
            self.reconnects += 1
            backoff = 0.2

    def _watch(self, start_revision: int) -> None:
        request = {
            "create_request": {
                "key": _b64(self.service_prefix),
                "range_end": _b64(_prefix_end(self.service_prefix)),
                "start_revision": start_revision,
                "progress_notify": True,
            }
        }
        connect = self._client.timeout or DEFAULT_TIMEOUT
        stream = self._client.session.post(
            self._client.get_url("/watch"),
            json=request,
            stream=True,
            timeout=(connect, self._read_timeout),
        )
        self._stream = stream
        try:
            stream.raise_for_status()
            for line in stream.iter_lines():
                if self._stopped.is_set():
                    return
                if not line.strip():
                    continue
                message = json.loads(line)
                if "error" in message:
                    raise DiscoveryError(f"watch error: {message['error']}")
                result = message["result"]
                if result.get("canceled") or result.get("compact_revision"):
                    # Compacted past our revision, or cancelled by the server: re-list.
                    raise DiscoveryError(f"watch cancelled: {result}")
                for event in result.get("events", []):
                    self._apply(event)
            raise DiscoveryError("watch stream ended")
        finally:
            self._stream = None
            stream.close()

    def _abort_stream(self) -> None:
        # Shut the socket down so the watch thread's blocking read returns now, not at its timeout.
        stream = self._stream
        if stream is None:
            return
        with contextlib.suppress(Exception):
            connection = getattr(stream.raw, "_connection", None)
            sock = getattr(connection, "sock", None)
            if sock is not None:
                sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(Exception):
            stream.close()


def resolve_once(etcd_url: str, name: str, *, prefix: str = DEFAULT_PREFIX) -> list[Instance]:
    """Every live instance, read from etcd now (one range request): the per-call baseline that
    ``bench/microservices_discovery.py`` compares the watched cache with."""
    resolver = Resolver(etcd_url, name, prefix=prefix)
    try:
        resolver.list_now()
        return resolver.instances()
    finally:
        resolver.close()


def main(argv: list[str] | None = None) -> int:
    """A bare instance: register, beat until SIGTERM (deregister) or SIGKILL (expire), serve nothing.

    ``python -m reference.microservices.discovery users u1 127.0.0.1 9000 --etcd-url URL`` — the
    registry half of a service, light enough (no web framework to import) to start a few per test.
    """
    import argparse

    parser = argparse.ArgumentParser(prog="python -m reference.microservices.discovery")
    parser.add_argument("name")
    parser.add_argument("instance_id")
    parser.add_argument("address")
    parser.add_argument("port", type=int)
    parser.add_argument("--etcd-url", required=True)
    parser.add_argument("--prefix", default=DEFAULT_PREFIX)
    parser.add_argument("--ttl", type=int, default=3)
    parser.add_argument("--heartbeat", type=float, default=1.0)
    args = parser.parse_args(argv)
    try:
        registration = Registration(
            args.etcd_url, args.name, args.instance_id, args.address, args.port,
            prefix=args.prefix, ttl=args.ttl, heartbeat=args.heartbeat,
        ).start()  # fmt: skip
    except DiscoveryError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    deregister_on_sigterm(registration)
    print(f"registered {registration.key}", flush=True)
    while True:
        signal.pause()


if __name__ == "__main__":
    sys.exit(main())
