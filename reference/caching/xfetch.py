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
rarely for anyone to draw an early refresh. The random source and the clock are injectable so tests
can pin the draw and the time.

Taught in ``notebooks/06_caching_stampede.ipynb`` (XFetch vs the lock).
"""

from __future__ import annotations

import json
import math
import random
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
            ):
                return Read(entry["v"], recomputed=False, early=False)
            return Read(self._recompute(key, fetch), recomputed=True, early=now < entry["expiry"])
        return Read(self._recompute(key, fetch), recomputed=True, early=False)

    def _recompute(self, key: str, fetch: Callable[[], Any]) -> Any:
        start = self.clock()
        value = fetch()
        finished = self.clock()
        entry = {"v": value, "delta": finished - start, "expiry": finished + self.ttl_seconds}
        self.client.set(
            self.prefix + key, json.dumps(entry), px=max(1, int(self.ttl_seconds * 1000))
        )
        return value
