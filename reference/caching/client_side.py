"""Server-assisted client-side caching: a local dict that Redis invalidates (``CLIENT TRACKING``).

Reads served from process memory cost no round trip at all; the hard part is knowing when a copy is
stale. Redis 6+ remembers which keys a tracking connection has read and, when any client changes one,
sends that connection an invalidation. Here tracking is wired directly, in its portable form:

- a *listener* connection (RESP2) takes its ``CLIENT ID`` and subscribes to
  ``__redis__:invalidate``;
- the *data* connection turns on ``CLIENT TRACKING ON REDIRECT <listener id>``: every key it reads
  is tracked, and the invalidations go to the listener as pub/sub messages (a list of keys, or
  ``None`` when the whole database was flushed);
- a listener thread drops those keys from the local dict.

redis-py's built-in cache (``Redis(protocol=3, cache_config=CacheConfig())``) refuses servers older
than Redis 7.4 ("client-side caching is supported by Redis 7.4 or later"), and the course runs Debian's
Redis 7.0, so this module implements tracking itself (``tests/caching/test_client_side.py`` shows the
refusal).

Pitfalls handled, each a comment below: the read/invalidate race (an invalidation can arrive *while*
our GET is in flight — storing that reply would pin a stale value forever, so each key carries an
invalidation counter checked before storing); misses are cached too (Redis tracks keys that do not
exist); and a lost listener connection means invalidations may have been missed, so the local copy
is dropped and reads go to Redis from then on. Both connections speak RESP2: Redis 7.0 encodes a
flush's invalidation (a null key list) in the *tracking* connection's protocol, so a RESP3 data
connection (redis-py 8's default) sends the RESP2 listener a RESP3 null, ``_``, that its parser
rejects. Invalidation is asynchronous: another client's write
is seen here a moment later, not at once — fine for most reads, wrong for read-your-own-write
across clients. Taught in ``notebooks/06_caching_stampede.ipynb``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

import redis

INVALIDATE_CHANNEL: Final = "__redis__:invalidate"
_ABSENT: Final = object()


@dataclass
class Stats:
    hits: int = 0
    misses: int = 0
    invalidations: int = 0


class ClientSideCache:
    """``get(key)`` from a local LRU dict kept coherent by Redis's invalidation messages."""

    def __init__(self, url: str, *, max_entries: int = 10_000) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries must be at least 1 (got {max_entries!r})")
        self.max_entries = max_entries
        self.stats = Stats()
        self._local: OrderedDict[str, object] = OrderedDict()
        self._generation: dict[str, int] = {}  # bumped by each invalidation of the key
        self._changed = threading.Condition()
        self._healthy = True
        self._stop = threading.Event()
        # RESP2 on purpose: the redirect target gets invalidations as ordinary pub/sub messages.
        self._listener_client = redis.Redis.from_url(url, decode_responses=True, protocol=2)
        self._pubsub = self._listener_client.pubsub()  # type: ignore[no-untyped-call]
        self._pubsub.execute_command("CLIENT", "ID")
        listener_id = int(self._pubsub.connection.read_response())
        self._pubsub.subscribe(INVALIDATE_CHANNEL)
        self._data = redis.Redis.from_url(
            url, decode_responses=True, protocol=2, single_connection_client=True
        )
        self._data_lock = threading.Lock()  # one tracked connection, one command at a time
        self._data.client_tracking_on(clientid=listener_id)
        self._thread = threading.Thread(target=self._listen, name="csc-invalidations", daemon=True)
        self._thread.start()

    def get(self, key: str) -> str | None:
        with self._changed:
            if self._healthy and key in self._local:
                self._local.move_to_end(key)
                self.stats.hits += 1
                value = self._local[key]
                return None if value is _ABSENT else str(value)
            self.stats.misses += 1
            generation = self._generation.get(key, 0)
        with self._data_lock:
            raw = self._data.get(key)
        value = None if raw is None else str(raw)
        with self._changed:
            # Store only if no invalidation of this key arrived while the GET was in flight.
            if self._healthy and self._generation.get(key, 0) == generation:
                self._local[key] = _ABSENT if value is None else value
                self._local.move_to_end(key)
                while len(self._local) > self.max_entries:
                    self._local.popitem(last=False)
        return value

    def cached(self, key: str) -> bool:
        """Whether ``key`` is held locally right now (demos and tests)."""
        with self._changed:
            return key in self._local

    def wait_for_invalidation(self, key: str, timeout: float) -> bool:
        """Block until ``key`` is no longer held locally, at most ``timeout`` seconds."""
        with self._changed:
            return self._changed.wait_for(lambda: key not in self._local, timeout=timeout)

    def _invalidate(self, keys: Iterable[str] | None) -> None:
        with self._changed:
            if keys is None:  # FLUSHDB/FLUSHALL: everything goes
                for key in list(self._local):
                    self._generation[key] = self._generation.get(key, 0) + 1
                self._local.clear()
            else:
                for key in keys:
                    self._generation[key] = self._generation.get(key, 0) + 1
                    self._local.pop(key, None)
            self.stats.invalidations += 1
            self._changed.notify_all()

    def _listen(self) -> None:
        try:
            while not self._stop.is_set():
                message = self._pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1)
                if message is not None and message["channel"] == INVALIDATE_CHANNEL:
                    self._invalidate(message["data"])
        except (redis.RedisError, ValueError):
            # Invalidations may have been lost with the connection: no local copy can be trusted.
            if not self._stop.is_set():
                with self._changed:
                    self._healthy = False
                    self._local.clear()
                    self._changed.notify_all()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._pubsub.close()
        self._listener_client.close()
        self._data.close()

    def __enter__(self) -> ClientSideCache:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
