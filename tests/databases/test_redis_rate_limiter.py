"""Sliding-window limiter: one Lua script on the server's clock vs the guide's MULTI (guide §2.7).

Each defect is shown on the port (``guide.databases.redis_service.RedisService.check_rate_limit``)
and its absence on the reference (``reference.databases.redis.rate_limiter``).
"""

from __future__ import annotations

import itertools
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

from guide.databases.redis_service import RedisService
from reference.config import Settings
from reference.databases.redis import SlidingWindowLimiter


def hammer(fn: object, requests: int = 200, threads: int = 20) -> list[bool]:
    """``requests`` calls of ``fn()`` from ``threads`` threads released together; allowed flags."""
    barrier = threading.Barrier(threads)
    per_thread = requests // threads

    def run(_: int) -> list[bool]:
        barrier.wait()
        return [bool(fn()) for _ in range(per_thread)]  # type: ignore[operator]

    with ThreadPoolExecutor(threads) as pool:
        return [flag for chunk in pool.map(run, range(threads)) for flag in chunk]


def test_reference_allows_exactly_the_limit_under_concurrency(
    redis_client: redis.Redis, redis_prefix: str
) -> None:
    limiter = SlidingWindowLimiter(redis_client, limit=10, window_ms=60_000, prefix=redis_prefix)
    flags = hammer(lambda: limiter.hit("alice").allowed)
    assert len(flags) == 200
    assert sum(flags) == 10
    assert redis_client.zcard(limiter.key_for("alice")) == 10


def test_guide_collapses_same_millisecond_requests(
    redis_client: redis.Redis, redis_prefix: str
) -> None:
    frozen_ms = 1_700_000_000_000  # every request lands in the same millisecond
    service = RedisService(redis_client, key_prefix=redis_prefix, clock=lambda: frozen_ms)
    flags = hammer(lambda: service.check_rate_limit("alice", 10, 60)["allowed"])
    assert sum(flags) == 200  # one member `${now}` for all 200: the limit of 10 never bites
    assert redis_client.zcard(f"{redis_prefix}alice") == 1


def overload(hit: object, limit: int, window_s: float, windows: int = 2) -> list[bool]:
    """Send ``10 × limit`` requests per window, evenly paced, for ``windows`` windows."""
    interval = window_s / (10 * limit)
    flags: list[bool] = []
    start = time.monotonic()
    for i in range(10 * limit * windows):
        delay = start + i * interval - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        flags.append(bool(hit()))  # type: ignore[operator]
    return flags


def test_reference_recovers_under_sustained_overload(
    redis_client: redis.Redis, redis_prefix: str
) -> None:
    limiter = SlidingWindowLimiter(redis_client, limit=5, window_ms=400, prefix=redis_prefix)
    key = limiter.key_for("bob")
    sizes: list[int] = []

    def hit() -> bool:
        allowed = limiter.hit("bob").allowed
        sizes.append(int(redis_client.zcard(key)))
        return allowed

    flags = overload(hit, limit=5, window_s=0.4)
    assert sum(flags[:5]) == 5  # the first window's budget …
    assert sum(flags) > 5  # … and a retrying client is served again in the second window
    assert max(sizes) <= 5  # rejected requests are never stored

    time.sleep(0.4)  # one window of silence
    assert limiter.hit("bob").allowed is True


def test_guide_blocks_a_retrying_client_forever(
    redis_client: redis.Redis, redis_prefix: str
) -> None:
    ticks = itertools.count(int(time.time() * 1000))
    service = RedisService(redis_client, key_prefix=redis_prefix, clock=lambda: next(ticks))
    sizes: list[int] = []

    def hit() -> bool:
        allowed = bool(service.check_rate_limit("bob", 5, 1)["allowed"])
        sizes.append(int(redis_client.zcard(f"{redis_prefix}bob")))
        return allowed

    flags = overload(hit, limit=5, window_s=1.0)
    assert sum(flags) <= 5  # nothing at all after the first window: every retry renewed the block
    assert sum(flags[50:]) == 0
    assert max(sizes) > 5  # and the sorted set filled with rejected requests


def test_reference_retry_after_is_when_the_next_request_passes(
    redis_client: redis.Redis, redis_prefix: str
) -> None:
    limiter = SlidingWindowLimiter(redis_client, limit=2, window_ms=300, prefix=redis_prefix)
    first = limiter.hit("carol")
    assert (first.allowed, first.remaining, first.retry_after_ms) == (True, 1, 0)
    assert limiter.hit("carol").remaining == 0
    denied = limiter.hit("carol")
    assert denied.allowed is False
    assert 0 < denied.retry_after_ms <= 300
    assert denied.headers() == {
        "RateLimit-Limit": "2",
        "RateLimit-Remaining": "0",
        "Retry-After": "1",
    }
    time.sleep(denied.retry_after_ms / 1000 + 0.01)
    assert limiter.hit("carol").allowed is True
    assert 0 < redis_client.pttl(limiter.key_for("carol")) <= 300  # the key expires by itself


def test_guide_has_no_retry_after(redis_client: redis.Redis, redis_prefix: str) -> None:
    ticks = itertools.count(int(time.time() * 1000))  # one ms apart, so no request collapses
    service = RedisService(redis_client, key_prefix=redis_prefix, clock=lambda: next(ticks))
    for _ in range(3):
        result = service.check_rate_limit("carol", 2, 1)
    assert result == {"allowed": False, "remaining": 0}  # when may the client try again? unknown


def test_reference_uses_one_clock_for_every_app_server(
    redis_client: redis.Redis, redis_prefix: str, settings: Settings
) -> None:
    # Two app servers, each with its own connection: the window is decided by Redis's TIME.
    other = redis.Redis.from_url(settings.redis_url)
    servers = [
        SlidingWindowLimiter(client, limit=4, window_ms=60_000, prefix=redis_prefix)
        for client in (redis_client, other)
    ]
    flags = [servers[i % 2].hit("dave").allowed for i in range(12)]
    other.close()
    assert sum(flags) == 4


def test_guide_skewed_app_clocks_erase_each_others_requests(
    redis_client: redis.Redis, redis_prefix: str
) -> None:
    now = int(time.time() * 1000)
    ticks_fast, ticks_slow = itertools.count(now + 5_000), itertools.count(now)
    fast = RedisService(redis_client, key_prefix=redis_prefix, clock=lambda: next(ticks_fast))
    slow = RedisService(redis_client, key_prefix=redis_prefix, clock=lambda: next(ticks_slow))
    flags = []
    for i in range(12):  # alternate between two app servers whose clocks are 5 s apart
        service = fast if i % 2 == 0 else slow
        flags.append(service.check_rate_limit("dave", 4, 2)["allowed"])
    # With one clock at most 4 of 12 could pass; the fast server deletes the slow server's entries
    # as "older than the window", so the slow server's requests never add up.
    assert sum(flags) == 7


def test_reference_raises_redis_errors(redis_client: redis.Redis, redis_prefix: str) -> None:
    limiter = SlidingWindowLimiter(redis_client, limit=3, window_ms=1_000, prefix=redis_prefix)
    redis_client.set(limiter.key_for("eve"), "not a sorted set")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        limiter.hit("eve")


def test_guide_swallows_redis_errors(redis_client: redis.Redis, redis_prefix: str) -> None:
    service = RedisService(redis_client, key_prefix=redis_prefix)
    redis_client.set(f"{redis_prefix}eve", "not a sorted set")
    result = service.check_rate_limit("eve", 3, 1)
    assert result["allowed"] is False  # a broken key silently denies everyone …
    assert result["remaining"] != result["remaining"]  # … with remaining = NaN, and no error


@pytest.mark.parametrize(
    ("limit", "window_ms"), [(0, 1000), (-1, 1000), (5, 0), (True, 1000), (5, 1.5)]
)
def test_reference_refuses_bad_settings(
    redis_client: redis.Redis, limit: object, window_ms: object
) -> None:
    with pytest.raises(ValueError, match="must be a positive integer"):
        SlidingWindowLimiter(redis_client, limit=limit, window_ms=window_ms)  # type: ignore[arg-type]
