"""Stampede protection (guide §6.3): the guide's lock on a cold key vs single flight with a deadline.

Every fetch is a real PostgreSQL query (``SELECT pg_sleep(…)``) counted by the fetcher itself. The
guide's ``StampedeProtectedCache`` (``guide.caching.stampede``) fetches once per caller for a
missing key, lets a second fetcher in when the fetch outlives its lock, and retries by recursion
until ``RecursionError``; ``reference.caching.single_flight`` fetches once — value or miss — keeps
its lease alive through a slow fetch, and gives every waiter a deadline.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest
import redis

from guide.caching.stampede import StampedeProtectedCache
from guide.databases.redis_service import RedisService
from reference.caching.single_flight import ComputeTimeout, SingleFlightCache
from reference.config import Settings


class CountingFetcher:
    """A fetcher whose every call is one PostgreSQL query sleeping ``seconds``; counts its calls."""

    def __init__(self, database_url: str, seconds: float, result: Any = "profile") -> None:
        self.database_url = database_url
        self.seconds = seconds
        self.result = result
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self, *_: object) -> Any:
        with self._lock:
            self.calls += 1
        with psycopg.connect(self.database_url) as conn:
            conn.execute("SELECT pg_sleep(%s)", (self.seconds,))
        return self.result


def run_together(n: int, call: Callable[[], Any]) -> list[Any]:
    """``call()`` in ``n`` threads released at once by a barrier; results or exceptions, in order."""
    barrier = threading.Barrier(n)

    def one() -> Any:
        barrier.wait(timeout=30)
        try:
            return call()
        except Exception as error:  # noqa: BLE001 — the test inspects what each caller got
            return error

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(lambda _: one(), range(n)))


# --- The guide's port: each §6.3 defect, shown ---------------------------------------------------


def test_guide_missing_key_costs_one_fetch_per_caller(
    redis: redis.Redis, prefix: str, settings: Settings
) -> None:
    fetcher = CountingFetcher(settings.database_url, 0.02, result=None)
    cache = StampedeProtectedCache(RedisService(redis, key_prefix=prefix), "user", 60, fetcher)
    results = run_together(8, lambda: cache.get("missing"))
    assert results == [None] * 8
    assert fetcher.calls == 8  # nothing cached for a miss: each waiter fetches in its turn


def test_guide_lock_shorter_than_fetch_lets_two_fetchers_in(
    redis: redis.Redis, prefix: str, settings: Settings
) -> None:
    second_started = threading.Event()
    calls = 0

    def fetcher(_: str) -> str:
        nonlocal calls
        calls += 1
        if calls == 1:  # the first fetch outlives the lock until a second fetch has begun
            assert second_started.wait(timeout=10)
        else:
            second_started.set()
        with psycopg.connect(settings.database_url) as conn:
            conn.execute("SELECT pg_sleep(0.01)")
        return "profile"

    cache = StampedeProtectedCache(
        RedisService(redis, key_prefix=prefix),
        "user",
        60,
        fetcher,
        lock_ttl_ms=50,
        retry_seconds=0.01,
    )
    assert run_together(4, lambda: cache.get("slow")) == ["profile"] * 4
    assert calls >= 2


def test_guide_waiter_recurses_until_recursion_error(redis: redis.Redis, prefix: str) -> None:
    hung = threading.Event()
    release = threading.Event()

    def hung_fetcher(_: str) -> str:
        hung.set()
        release.wait(timeout=30)
        return "late"

    cache = StampedeProtectedCache(
        RedisService(redis, key_prefix=prefix), "user", 60, hung_fetcher, retry_seconds=0
    )
    holder = threading.Thread(target=cache.get, args=("hung",))
    holder.start()
    try:
        assert hung.wait(timeout=10)
        with pytest.raises(RecursionError):
            cache.get("hung")  # no deadline: one frame per retry until the stack runs out
    finally:
        release.set()
        holder.join(timeout=30)


# --- The reference: fixed ------------------------------------------------------------------------


def test_cold_key_fifty_readers_one_fetch(
    redis: redis.Redis, prefix: str, settings: Settings
) -> None:
    fetcher = CountingFetcher(settings.database_url, 0.3, result={"id": 7, "name": "Ada"})
    cache = SingleFlightCache(redis, prefix=prefix)
    results = run_together(50, lambda: cache.get_or_compute("user:7", fetcher, deadline=30))
    assert results == [{"id": 7, "name": "Ada"}] * 50
    assert fetcher.calls == 1


def test_missing_key_is_cached_negatively(
    redis: redis.Redis, prefix: str, settings: Settings
) -> None:
    fetcher = CountingFetcher(settings.database_url, 0.05, result=None)
    cache = SingleFlightCache(redis, prefix=prefix, negative_ttl_seconds=30)
    results = run_together(20, lambda: cache.get_or_compute("user:404", fetcher, deadline=30))
    assert results == [None] * 20
    assert cache.get_or_compute("user:404", fetcher, deadline=1) is None
    assert fetcher.calls == 1
    assert 0 < redis.pttl(prefix + "user:404") <= 30_000


@pytest.mark.parametrize("falsy", [0, "", []])
def test_falsy_values_are_values(redis: redis.Redis, prefix: str, falsy: Any) -> None:
    calls: list[int] = []

    def fetch() -> Any:
        calls.append(1)
        return falsy

    cache = SingleFlightCache(redis, prefix=prefix)
    for _ in range(3):
        assert cache.get_or_compute("k", fetch, deadline=5) == falsy
    assert len(calls) == 1


def test_lease_is_extended_through_a_fetch_longer_than_its_ttl(
    redis: redis.Redis, prefix: str, settings: Settings
) -> None:
    # The fetch outlives five leases. The lease is 300 ms, heartbeat every 100 ms: long enough
    # that a loaded 2-core CI machine never stalls the heartbeat past it (60 ms once did).
    fetcher = CountingFetcher(settings.database_url, 1.5)
    cache = SingleFlightCache(redis, prefix=prefix, lock_ttl_ms=300, recheck_seconds=0.01)
    results = run_together(10, lambda: cache.get_or_compute("slow", fetcher, deadline=30))
    assert results == ["profile"] * 10
    assert fetcher.calls == 1  # the guide's port lets a second fetcher in here


def test_hung_fetcher_waiters_give_up_at_their_deadline(redis: redis.Redis, prefix: str) -> None:
    hung = threading.Event()
    release = threading.Event()

    def hung_fetch() -> str:
        hung.set()
        release.wait(timeout=30)  # stands for a query hung for 10 s
        return "late"

    # 300 ms lease (100 ms heartbeat): short, yet no stall of a loaded runner lets a waiter in.
    cache = SingleFlightCache(redis, prefix=prefix, lock_ttl_ms=300)
    holder = threading.Thread(target=cache.get_or_compute, args=("hung", hung_fetch, 30))
    holder.start()
    try:
        assert hung.wait(timeout=10)
        results = run_together(10, lambda: cache.get_or_compute("hung", hung_fetch, deadline=0.2))
        assert all(isinstance(r, ComputeTimeout) for r in results), results
        assert "hung" in str(results[0])
    finally:
        release.set()
        holder.join(timeout=30)
    assert cache.get_or_compute("hung", hung_fetch, deadline=1) == "late"


def test_stale_holder_cannot_overwrite_after_losing_its_lease(
    redis: redis.Redis, prefix: str
) -> None:
    cache = SingleFlightCache(redis, prefix=prefix, lock_ttl_ms=50, max_lease_seconds=0.01)
    stalled = threading.Event()
    release = threading.Event()

    def stalled_fetch() -> str:
        stalled.set()
        release.wait(timeout=30)
        return "stale"

    holder = threading.Thread(target=cache.get_or_compute, args=("k", stalled_fetch, 30))
    holder.start()
    try:
        assert stalled.wait(timeout=10)
        # The heartbeat stops after max_lease_seconds; once the lease lapses a second caller computes.
        assert cache.get_or_compute("k", lambda: "fresh", deadline=10) == "fresh"
    finally:
        release.set()
        holder.join(timeout=30)
    assert cache.get_or_compute("k", lambda: "never", deadline=1) == "fresh"


def test_fetch_error_is_not_cached(redis: redis.Redis, prefix: str) -> None:
    cache = SingleFlightCache(redis, prefix=prefix)

    def broken() -> str:
        raise RuntimeError("database down")

    with pytest.raises(RuntimeError):
        cache.get_or_compute("k", broken, deadline=1)
    assert cache.get_or_compute("k", lambda: "ok", deadline=1) == "ok"


@pytest.mark.parametrize("deadline", [0, -1, float("nan"), float("inf"), "1", True])
def test_hostile_deadline_is_a_value_error(redis: redis.Redis, prefix: str, deadline: Any) -> None:
    with pytest.raises(ValueError, match="deadline"):
        SingleFlightCache(redis, prefix=prefix).get_or_compute("k", lambda: 1, deadline)


def test_empty_key_is_a_value_error(redis: redis.Redis, prefix: str) -> None:
    with pytest.raises(ValueError, match="key"):
        SingleFlightCache(redis, prefix=prefix).get_or_compute("", lambda: 1, 1)


def test_unserialisable_value_frees_the_lock(redis: redis.Redis, prefix: str) -> None:
    cache = SingleFlightCache(redis, prefix=prefix)
    with pytest.raises(TypeError):
        cache.get_or_compute("k", lambda: {1, 2}, deadline=1)
    assert cache.get_or_compute("k", lambda: [1, 2], deadline=1) == [1, 2]
