"""Taught in notebooks/04_microservices_discovery.ipynb §4.

Exercise 04.5: resolve from a watched cache, round-robin over the live instances.

The guide's ``getService`` asks Consul on every call (a registry read per request: the registry
becomes part of every request's latency and load) and picks an instance at random. Here the
registry is etcd (standing in for Consul), and the resolver keeps its own view of the instances,
kept current by etcd's watch.

``WatchedResolver(client, prefix, name)``, ``client`` an ``etcd3gw.Etcd3Client``. Instances are
registered as in exercise 04.2: the key ``f"{prefix}{name}/{instance_id}"``, the JSON value
``{"name": …, "id": …, "address": …, "port": …}``, bound to a lease.

* ``start()`` reads the instances once (:func:`read_prefix` gives them with the store's revision)
  and then follows etcd's watch from the next revision (``client.watch_prefix(key_prefix,
  start_revision=revision + 1)`` returns ``(events, cancel)``; iterate ``events`` in a daemon
  thread): a put adds an instance or replaces it (same key), a delete — a stop, or a lease that ran
  out — removes it. After ``start()``, resolving makes no request to etcd;
* ``resolve()`` returns ``(address, port)`` of the next live instance in round-robin order: over
  ``n`` calls with ``k`` instances each one is returned ``n / k`` times (± 1). No live instance →
  ``LookupError`` (not ``None``);
* an entry whose value is not JSON, or has no usable address (the guide's ``""``), is never
  returned;
* ``close()`` stops watching.

A watch event is a dict: ``event["kv"]["key"]`` and ``event["kv"].get("value", b"")`` are bytes,
and ``event.get("type")`` is ``"DELETE"`` for a delete (absent for a put).
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable, Iterator
from typing import Any

from etcd3gw.client import Etcd3Client

__all__ = ["WatchedResolver", "parse_instance", "read_prefix"]


def read_prefix(client: Etcd3Client, key_prefix: str) -> tuple[list[tuple[bytes, bytes]], int]:
    """Every ``(key, value)`` under ``key_prefix`` and the store's revision at that read (one range
    request). Watching from ``revision + 1`` then misses nothing and repeats nothing."""
    end = key_prefix[:-1] + chr(ord(key_prefix[-1]) + 1)
    answer = client.post(
        client.get_url("/kv/range"),
        json={
            "key": base64.b64encode(key_prefix.encode()).decode(),
            "range_end": base64.b64encode(end.encode()).decode(),
        },
    )
    entries = [
        (base64.b64decode(kv["key"]), base64.b64decode(kv.get("value", "")))
        for kv in answer.get("kvs", [])
    ]
    return entries, int(answer["header"]["revision"])


def parse_instance(value: bytes) -> tuple[str, int] | None:
    """``(address, port)`` from a registry value; ``None`` when it is not JSON or has no usable
    address (the guide's ``""``) or port."""
    # TODO: json.loads(value) in a try/except; return (address, port) when the address is a
    # non-empty string and the port an int 1-65535, else None. Never raise for a bad value.
    raise NotImplementedError


class WatchedResolver:
    """Live instances of one service from a watched cache; round-robin resolution."""

    def __init__(self, client: Etcd3Client, prefix: str, name: str) -> None:
        self.client = client
        self.key_prefix = f"{prefix}{name}/"
        self.lock = threading.Lock()
        self.instances: dict[bytes, tuple[str, int]] = {}
        self.turn = 0
        self.cancel: Callable[[], None] | None = None

    def start(self) -> None:
        """Read the instances once, then follow the watch in a daemon thread."""
        # TODO: entries, revision = read_prefix(...); keep each parse_instance(value) that is not
        # None in self.instances (under self.lock); then
        # events, self.cancel = self.client.watch_prefix(..., start_revision=revision + 1) and a
        # thread applying each event: DELETE → pop the key, otherwise store it.
        raise NotImplementedError

    def follow(self, events: Iterator[dict[str, Any]]) -> None:
        """Apply watch events to the cache until the watch is cancelled."""
        # TODO: for event in events: under self.lock, pop the key on DELETE, else keep
        # parse_instance(value) under it (a bad value: drop the key).
        raise NotImplementedError

    def resolve(self) -> tuple[str, int]:
        """The next live instance in round-robin order; ``LookupError`` when there is none."""
        # TODO: under self.lock: no instances → LookupError; else take the instances in a stable
        # order (sorted by key), return the one at self.turn % count and advance self.turn.
        raise NotImplementedError

    def close(self) -> None:
        """Stop watching."""
        # TODO: call self.cancel() if the watch was started.
        raise NotImplementedError
