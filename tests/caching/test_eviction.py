"""Eviction policies on a throwaway Redis: a Zipf workload's hit ratio per policy and cache size."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from reference.caching.eviction import EvictionBench, zipf_workload
from reference.caching.scratch_redis import ScratchRedis

KEYS = zipf_workload(1000, 3000, seed=7)


@pytest.fixture(scope="module")
def bench() -> Iterator[EvictionBench]:
    with ScratchRedis() as server, server.client() as client:
        yield EvictionBench(client)


def test_zipf_workload_is_skewed_and_reproducible() -> None:
    assert zipf_workload(1000, 3000, seed=7) == KEYS
    top_ten = sum(1 for k in KEYS if k < 10)
    assert top_ten > len(KEYS) // 4  # 1% of the keys draw over a quarter of the reads (s = 1)
    assert len(set(KEYS)) > 300  # … and the tail is long


def test_everything_fits_means_only_first_reads_miss(bench: EvictionBench) -> None:
    result = bench.measure("allkeys-lru", 2000, KEYS, warmup=0)
    assert result.evicted == 0
    assert result.hits == len(KEYS) - len(set(KEYS))


@pytest.mark.parametrize("policy", ["allkeys-lru", "allkeys-lfu", "volatile-ttl"])
def test_hit_ratio_grows_with_cache_size(bench: EvictionBench, policy: str) -> None:
    small = bench.measure(policy, 50, KEYS)
    large = bench.measure(policy, 200, KEYS)
    assert small.evicted > large.evicted > 0
    assert 0 < small.hit_ratio < large.hit_ratio < 1


def test_lfu_keeps_the_hot_keys_when_the_cache_is_small(bench: EvictionBench) -> None:
    lru = bench.measure("allkeys-lru", 50, KEYS)
    lfu = bench.measure("allkeys-lfu", 50, KEYS)
    assert lfu.hit_ratio > lru.hit_ratio + 0.05


def test_bad_arguments_are_value_errors(bench: EvictionBench) -> None:
    with pytest.raises(ValueError, match="unknown policy"):
        bench.measure("noeviction", 50, KEYS)
    with pytest.raises(ValueError, match="capacity_keys"):
        bench.measure("allkeys-lru", 0, KEYS)
    with pytest.raises(ValueError, match="n_keys"):
        zipf_workload(0, 10)
