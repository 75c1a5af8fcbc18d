"""XFetch (probabilistic early refresh): the draw and the clock pinned, so each decision is exact."""

from __future__ import annotations

import json
import math

import pytest
import redis

from reference.caching.xfetch import XFetchCache, should_refresh, steady_load


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_should_refresh_formula() -> None:
    # 10 s left, a 1 s computation: a draw of 1 never refreshes early, a tiny one does.
    assert not should_refresh(now=90, delta=1, expiry=100, beta=1, draw=1.0)
    assert should_refresh(now=90, delta=1, expiry=100, beta=1, draw=math.exp(-10))
    assert not should_refresh(now=90, delta=1, expiry=100, beta=1, draw=math.exp(-9.9))
    # beta scales the look-ahead.
    assert should_refresh(now=90, delta=1, expiry=100, beta=2, draw=math.exp(-5))
    # At or past the expiry every draw refreshes.
    assert should_refresh(now=100, delta=1, expiry=100, beta=1, draw=1.0)


@pytest.mark.parametrize("draw", [0.0, -0.5, 1.5])
def test_draw_outside_open_closed_interval_is_rejected(draw: float) -> None:
    with pytest.raises(ValueError, match="draw"):
        should_refresh(now=0, delta=1, expiry=1, beta=1, draw=draw)


def test_refreshes_early_only_when_the_draw_says_so(redis: redis.Redis, prefix: str) -> None:
    clock = FakeClock()
    draws = iter([0.9, math.exp(-3.5)])
    cache = XFetchCache(redis, prefix=prefix, ttl_seconds=10, clock=clock, rand=lambda: next(draws))
    fetches: list[float] = []

    def fetch() -> str:
        fetches.append(clock.now)
        clock.now += 1.0  # the computation takes 1 s: delta = 1
        return f"v{len(fetches)}"

    first = cache.get("report", fetch)
    assert (first.value, first.recomputed) == ("v1", True)
    stored = json.loads(redis.get(prefix + "report") or "{}")
    assert stored["delta"] == 1.0
    assert stored["expiry"] == 1011.0

    clock.now = 1008.0  # 3 s before expiry; -ln(0.9) ≈ 0.1 s of look-ahead: serve the cache
    assert cache.get("report", fetch).recomputed is False
    second = cache.get("report", fetch)  # -ln(e^-3.5) = 3.5 s ≥ 3 s left: refresh early
    assert (second.value, second.recomputed, second.early) == ("v2", True, True)
    assert len(fetches) == 2


def test_cold_key_is_a_plain_miss(redis: redis.Redis, prefix: str) -> None:
    cache = XFetchCache(redis, prefix=prefix, rand=lambda: 1.0)
    read = cache.get("cold", lambda: 42)
    assert (read.value, read.recomputed, read.early) == (42, True, False)
    assert 0 < redis.pttl(prefix + "cold") <= 60_000


@pytest.mark.parametrize(("ttl", "beta"), [(0.0, 1.0), (10.0, -1.0), (10.0, float("nan"))])
def test_bad_parameters_are_value_errors(
    redis: redis.Redis, prefix: str, ttl: float, beta: float
) -> None:
    with pytest.raises(ValueError, match="must be positive"):
        XFetchCache(redis, prefix=prefix, ttl_seconds=ttl, beta=beta)


def test_single_refresher_lets_one_reader_refresh_early(redis: redis.Redis, prefix: str) -> None:
    clock = FakeClock()
    cache = XFetchCache(
        redis, prefix=prefix, ttl_seconds=10, clock=clock, rand=lambda: 1e-9, single_refresher=True
    )

    def fetch() -> int:
        clock.now += 1.0
        return int(clock.now)

    assert cache.get("k", fetch).recomputed  # cold
    first = cache.get("k", fetch)  # every draw says "refresh": the first reader wins the flag …
    second = cache.get("k", fetch)  # … the next one, while the flag lives, serves the current value
    assert (first.recomputed, first.early) == (True, True)
    assert second.recomputed is False
    assert second.value == first.value


def test_steady_load_counts_fetches_waits_and_stale_reads(redis: redis.Redis, prefix: str) -> None:
    cache = XFetchCache(redis, prefix=prefix, ttl_seconds=30)
    result = steady_load(
        lambda fetch: cache.get("k", fetch).value,
        lambda: "v",
        readers=3,
        seconds=0.2,
        ttl_seconds=30,
        fetch_seconds=0.05,
    )
    assert result.reads > 3
    assert result.fetches == 0  # warmed before the clock, and 30 s is far away
    assert result.stale == 0
    with pytest.raises(ValueError, match="positive"):
        steady_load(lambda f: f(), lambda: 1, readers=0, seconds=1, ttl_seconds=1, fetch_seconds=1)
