"""Eviction policies measured: hit ratio vs cache size on a Zipf workload, on a throwaway Redis.

A cache that is full must drop something; ``maxmemory-policy`` decides what. On a skewed workload
(a few hot keys, a long tail — Zipf, as real traffic tends to be):

- ``allkeys-lru`` drops the key least recently used (approximated: Redis samples
  ``maxmemory-samples`` keys and evicts the oldest of them);
- ``allkeys-lfu`` drops the key least *frequently* used (a logarithmic counter that decays), so one
  scan of the tail does not flush the hot keys;
- ``volatile-ttl`` drops the key with the nearest expiry, among keys that have one. With a single
  TTL for every entry that is simply the *oldest write* — FIFO, blind to popularity. (And with no
  TTLs at all it evicts nothing: writes fail with OOM.)

Every run uses its own ``redis-server`` (:class:`reference.caching.scratch_redis.ScratchRedis`)
because ``CONFIG SET maxmemory`` on the shared course server would evict everyone's keys. Values
are 4 KiB by default so that the server's own fluctuating overhead (buffers, hash-table growth) is
small beside the keys. Each operation is one Lua call — GET, and on a miss SET a value of
``value_bytes`` built server-side — sent in pipelined batches, so a few thousand operations take a
fraction of a second and the client's query buffer stays small (it counts toward
``used_memory``); a write refused with OOM counts as a miss. Cache size is given in *keys*: the
server's bytes per key are measured first and
``maxmemory`` set to the empty server's usage plus that many keys. Taught in
``notebooks/06_caching_stampede.ipynb``.
"""

from __future__ import annotations

import bisect
import itertools
import random
from dataclasses import dataclass
from typing import Final

import redis

POLICIES: Final = ("allkeys-lru", "allkeys-lfu", "volatile-ttl")

# KEYS[1] the key; ARGV[1] value size, ARGV[2] TTL seconds. 1 = hit, 0 = miss (then stored).
_READ_THROUGH: Final = """
if redis.call('GET', KEYS[1]) then return 1 end
redis.call('SET', KEYS[1], string.rep('x', tonumber(ARGV[1])), 'EX', ARGV[2])
return 0
"""


def zipf_workload(n_keys: int, n_ops: int, *, s: float = 1.0, seed: int = 7) -> list[int]:
    """``n_ops`` key numbers in ``0…n_keys-1``, key ``k`` drawn with weight ``1 / (k+1)^s``."""
    if n_keys < 1 or n_ops < 0 or s < 0:
        raise ValueError("n_keys must be >= 1, n_ops >= 0 and s >= 0")
    cumulative = list(itertools.accumulate(1.0 / (k + 1) ** s for k in range(n_keys)))
    rng = random.Random(seed)
    total = cumulative[-1]
    return [min(bisect.bisect(cumulative, rng.random() * total), n_keys - 1) for _ in range(n_ops)]


@dataclass(frozen=True)
class Result:
    policy: str
    capacity_keys: int
    ops: int  # counted operations (after the warm-up)
    hits: int
    evicted: int

    @property
    def hit_ratio(self) -> float:
        return self.hits / self.ops if self.ops else 0.0


class EvictionBench:
    """Runs a key sequence against one throwaway server under each policy and cache size."""

    def __init__(
        self, client: redis.Redis, *, value_bytes: int = 4096, ttl_seconds: int = 3600
    ) -> None:
        if value_bytes < 1 or ttl_seconds < 1:
            raise ValueError("value_bytes and ttl_seconds must be positive")
        self.client = client
        self.value_bytes = value_bytes
        self.ttl_seconds = ttl_seconds
        self._script = client.register_script(_READ_THROUGH)
        self.bytes_per_key = self._measure_bytes_per_key()

    def _used_memory(self) -> int:
        return int(self.client.info("memory")["used_memory"])

    def _reset(self) -> int:
        self.client.config_set("maxmemory", 0)
        self.client.flushall()
        self.client.config_resetstat()
        return self._used_memory()

    def _run(self, keys: list[int], batch: int = 100) -> list[int]:
        outcomes: list[int] = []
        for start in range(0, len(keys), batch):
            pipe = self.client.pipeline(transaction=False)
            for k in keys[start : start + batch]:
                self._script(keys=[f"k{k}"], args=[self.value_bytes, self.ttl_seconds], client=pipe)
            # An OOM reply (nothing left to evict below the limit) is a miss that stored nothing.
            outcomes.extend(x if isinstance(x, int) else 0 for x in pipe.execute(False))
        return outcomes

    def _measure_bytes_per_key(self, sample: int = 500) -> int:
        # Twice: the first run also grows the server's tables and buffers, which FLUSHALL keeps,
        # so the second run's difference is the cost of the keys alone.
        self._reset()
        self._run(list(range(sample)))
        empty = self._reset()
        self._run(list(range(sample)))
        return max(1, (self._used_memory() - empty) // sample)

    def measure(
        self, policy: str, capacity_keys: int, keys: list[int], *, warmup: float = 0.2
    ) -> Result:
        """Hit ratio of ``keys`` under ``policy`` with room for about ``capacity_keys`` entries."""
        if policy not in POLICIES:
            raise ValueError(f"unknown policy {policy!r}; choose from {', '.join(POLICIES)}")
        if capacity_keys < 1:
            raise ValueError(f"capacity_keys must be at least 1 (got {capacity_keys!r})")
        if not 0 <= warmup < 1:
            raise ValueError("warmup must be a fraction in [0, 1)")
        empty = self._reset()
        self.client.config_set("maxmemory-policy", policy)
        self.client.config_set("maxmemory", empty + capacity_keys * self.bytes_per_key)
        outcomes = self._run(keys)
        counted = outcomes[int(len(outcomes) * warmup) :]
        evicted = int(self.client.info("stats")["evicted_keys"])
        return Result(policy, capacity_keys, len(counted), sum(counted), evicted)

    def sweep(self, capacities: list[int], keys: list[int]) -> list[Result]:
        return [self.measure(p, c, keys) for p in POLICIES for c in capacities]
