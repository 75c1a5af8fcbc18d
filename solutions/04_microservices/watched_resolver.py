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
import json
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
    try:
        data = json.loads(value)
        address, port = data["address"], data["port"]
    except (ValueError, KeyError, TypeError):
        return None
    if isinstance(address, str) and address and type(port) is int and 0 < port < 65536:
        return address, port
    return None


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
        entries, revision = read_prefix(self.client, self.key_prefix)
        with self.lock:
            for key, value in entries:
                instance = parse_instance(value)
                if instance is not None:
                    self.instances[key] = instance
        events, self.cancel = self.client.watch_prefix(self.key_prefix, start_revision=revision + 1)
        threading.Thread(target=self.follow, args=(events,), daemon=True).start()

    def follow(self, events: Iterator[dict[str, Any]]) -> None:
        """Apply watch events to the cache until the watch is cancelled."""
        for event in events:
            key = event["kv"]["key"]
            with self.lock:
                instance = None
                if event.get("type") != "DELETE":
                    instance = parse_instance(event["kv"].get("value", b""))
                if instance is None:
                    self.instances.pop(key, None)
                else:
                    self.instances[key] = instance

    def resolve(self) -> tuple[str, int]:
        """The next live instance in round-robin order; ``LookupError`` when there is none."""
        with self.lock:
            if not self.instances:
                raise LookupError(f"no live instance under {self.key_prefix}")
            ordered = [self.instances[key] for key in sorted(self.instances)]
            chosen = ordered[self.turn % len(ordered)]
            self.turn += 1
            return chosen

    def close(self) -> None:
        """Stop watching."""
        if self.cancel is not None:
            self.cancel()
