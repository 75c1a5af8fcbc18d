"""Probabilistic early refresh (XFetch): the lock-free answer to cache stampedes.

Vattani, Chierichetti & Lowenstein, "Optimal Probabilistic Cache Stampede Prevention" (VLDB 2015).
Each entry remembers how long its computation took (``delta``) and when it expires (``expiry``).
A reader recomputes *before* the expiry with a probability that rises as the expiry nears:

    recompute  ⇔  now − delta · beta · ln(rand())  ≥  expiry        (rand() ∈ (0, 1])

``−ln(rand())`` is exponentially distributed with mean 1, so a reader looks ``delta · beta`` seconds
ahead on average: slow computations start refreshing earlier, ``beta > 1`` favours earlier refreshes,
and under steady load one reader (rarely two) refreshes while everyone else keeps reading the still-
valid value — no lock, no waiting. What it does not cover: a *cold* key (nothing to serve yet: every
reader misses at once — use :mod:`reference.caching.single_flight` for that) and a key read too
rarely for anyone to draw an early refresh. Nor a *hot* key whose recomputation is slow against the
read rate: every read that arrives while the first early refresh is still running draws again, with a
growing probability, and starts its own. ``single_refresher=True`` closes that gap with a
non-blocking ``SET NX`` flag per key: the winner refreshes, everyone else serves the current (still
valid) value — nobody waits. The random source and the clock are injectable so tests
can pin the draw and the time.

:func:`steady_load` is the measuring harness the notebook and ``bench/caching_stampede.py`` use to set
XFetch beside the lock (fetches, readers that waited, values served past their TTL). Taught in
``notebooks/06_caching_stampede.ipynb`` (XFetch vs the lock).
"""

from __future__ import annotations

import json
import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis


def _uniform_open_closed() -> float:
    """A draw from (0, 1]: ``random.random()`` is [0, 1), and ``ln(0)`` is undefined."""
    return 1.0 - random.random()


def should_refresh(*, now: float, delta: float, expiry: float, beta: float, draw: float) -> bool:
    """XFetch's test for one read: ``now - delta * beta * ln(draw) >= expiry``."""
    if not 0.0 < draw <= 1.0:
        raise ValueError(f"draw must be in (0, 1] (got {draw!r})")
    return now - delta * beta * math.log(draw) >= expiry


@dataclass(frozen=True)
class Read:
    """What one :meth:`XFetchCache.get` did: the value, and whether it recomputed (and why)."""

    value: Any
    recomputed: bool
    early: bool  # recomputed although the entry had not expired yet


class XFetchCache:
    """Cache entries as JSON ``{"v": value, "delta": s, "expiry": t}`` under ``{prefix}{key}``.

    Redis expires the key at ``expiry`` too (``PX`` = ``ttl_seconds``), so a key nobody refreshed in
    time is a plain miss.
    """

    def __init__(
        self,
        client: redis.Redis,
        *,
        prefix: str = "",
        ttl_seconds: float = 60.0,
        beta: float = 1.0,
        clock: Callable[[], float] = time.time,
        rand: Callable[[], float] = _uniform_open_closed,
        single_refresher: bool = False,
    ) -> None:
        if not (math.isfinite(ttl_seconds) and ttl_seconds > 0):
            raise ValueError(f"ttl_seconds must be positive (got {ttl_seconds!r})")
        if not (math.isfinite(beta) and beta > 0):
            raise ValueError(f"beta must be positive (got {beta!r})")
        self.client = client
        self.prefix = prefix
        self.ttl_seconds = ttl_seconds
        self.beta = beta
        self.clock = clock  # wall clock: expiry is shared by every process reading the key
        self.rand = rand
        self.single_refresher = single_refresher

    def get(self, key: str, fetch: Callable[[], Any]) -> Read:
        raw = self.client.get(self.prefix + key)
        if raw is not None:
            entry = json.loads(raw)
            now = self.clock()
            if not should_refresh(
                now=now,
                delta=entry["delta"],
                expiry=entry["expiry"],
                beta=self.beta,
                draw=self.rand(),
            ) or not self._may_refresh(key, entry["delta"]):
                return Read(entry["v"], recomputed=False, early=False)
            return Read(self._recompute(key, fetch), recomputed=True, early=now < entry["expiry"])
        return Read(self._recompute(key, fetch), recomputed=True, early=False)

    def _may_refresh(self, key: str, delta: float) -> bool:
        """With ``single_refresher``, only the reader that wins ``SET NX`` refreshes early; the
        others serve the still-valid value instead of piling onto the database."""
        if not self.single_refresher:
            return True
        ttl_ms = max(1, int(delta * 3000))  # the refresh should take ~delta; 3x covers a slow one
        return bool(self.client.set(f"{self.prefix}{key}:refreshing", "1", nx=True, px=ttl_ms))

    def _recompute(self, key: str, fetch: Callable[[], Any]) -> Any:
        start = self.clock()
        value = fetch()
        finished = self.clock()
        entry = {"v": value, "delta": finished - start, "expiry": finished + self.ttl_seconds}
        self.client.set(
            self.prefix + key, json.dumps(entry), px=max(1, int(self.ttl_seconds * 1000))
        )
        return value


@dataclass(frozen=True)
class LoadResult:
    """What :func:`steady_load` saw: reads, fetches (with their start times), and their costs."""

    reads: int
    fetches: int
    waited: (
        int  # reads that took at least half a fetch: they fetched, or waited for someone's fetch
    )
    stale: int  # reads served a value that had expired before the read began
    fetch_times: tuple[float, ...]  # seconds since the load started


def steady_load(
    read: Callable[[Callable[[], Any]], Any],
    fetch: Callable[[], Any],
    *,
    readers: int,
    seconds: float,
    ttl_seconds: float,
    fetch_seconds: float,
    think_seconds: float = 0.01,
) -> LoadResult:
    """``readers`` threads call ``read(counted_fetch)`` in a loop for ``seconds``.

    ``read`` is the strategy under test (XFetch, a lock, nothing at all) and must return what the
    fetch returned; the fetch is wrapped to count its calls and stamp its result with the time it
    was produced (``{"v": …, "produced_at": …}``), so a read can tell whether it was served a value
    older than ``ttl_seconds``. A read is counted as *waited* when it took at least half of
    ``fetch_seconds`` — it paid for a database round trip, its own or another caller's. One read
    before the clock starts warms the key (not counted): the load measures the steady state, where
    entries expire and are refreshed, not the cold start.
    """
    if readers < 1 or seconds <= 0 or ttl_seconds <= 0 or fetch_seconds <= 0:
        raise ValueError("readers, seconds, ttl_seconds and fetch_seconds must be positive")
    read(lambda: {"v": fetch(), "produced_at": time.time()})
    lock = threading.Lock()
    start = time.monotonic()
    end = start + seconds
    fetch_times: list[float] = []
    totals = {"reads": 0, "waited": 0, "stale": 0}

    def counted_fetch() -> dict[str, Any]:
        with lock:
            fetch_times.append(time.monotonic() - start)
        return {"v": fetch(), "produced_at": time.time()}

    def reader() -> None:
        reads = waited = stale = 0
        while time.monotonic() < end:
            began, began_wall = time.monotonic(), time.time()
            value = read(counted_fetch)
            reads += 1
            waited += time.monotonic() - began >= fetch_seconds / 2
            # Expired before this read even began (a read that starts a millisecond before the
            # expiry and ends just after it was served in time).
            stale += began_wall > value["produced_at"] + ttl_seconds
            time.sleep(think_seconds)
        with lock:
            totals["reads"] += reads
            totals["waited"] += waited
            totals["stale"] += stale

    threads = [threading.Thread(target=reader) for _ in range(readers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return LoadResult(
        reads=totals["reads"],
        fetches=len(fetch_times),
        waited=totals["waited"],
        stale=totals["stale"],
        fetch_times=tuple(sorted(fetch_times)),
    )
