"""Grading for exercise 02.8: the sliding-window limiter in Lua (exercises/02_databases/limiter_script.py)."""

from __future__ import annotations

import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from types import ModuleType

import pytest
import redis


def test_exactly_the_limit_under_concurrency(
    exercise: ModuleType, redis_client: redis.Redis, redis_prefix: str
) -> None:
    """200 requests from 20 threads, all in one 60 s window with a limit of 10: exactly 10 may be
    allowed — not 9 (requests lost), not 11+ (same-moment requests counted once)."""
    key = redis_prefix + "burst"
    barrier = threading.Barrier(20)

    def client_thread(_: int) -> int:
        barrier.wait()
        return sum(exercise.hit(redis_client, key, 10, 60_000)[0] for _ in range(10))

    with ThreadPoolExecutor(20) as pool:
        allowed = sum(pool.map(client_thread, range(20)))
    assert allowed == 10
    assert redis_client.zcard(key) == 10


def test_requests_in_the_same_millisecond_each_count(
    exercise: ModuleType, redis_client: redis.Redis, redis_prefix: str
) -> None:
    """Five requests run back to back inside one MULTI (microseconds apart, so in the same
    millisecond of the server's clock) are five entries: each request needs a member of its own
    (ARGV[3]); the timestamp as member collapses them into one and lets a burst through."""
    key = redis_prefix + "same-ms"
    script = redis_client.register_script(exercise.limiter_script())
    members = [secrets.token_hex(8) for _ in range(5)]
    with redis_client.pipeline(transaction=True) as pipe:
        for member in members:
            script(keys=[key], args=[10, 60_000, member], client=pipe)
        results = pipe.execute()
    assert [int(allowed) for allowed, _, _ in results] == [1] * 5
    assert redis_client.zcard(key) == 5, "requests in the same millisecond shared one member"


def test_rejected_requests_are_not_counted(
    exercise: ModuleType, redis_client: redis.Redis, redis_prefix: str
) -> None:
    """A client retrying at ten times its limit (5 per 400 ms) for two windows must still get
    requests through in the second window, the sorted set must never hold more than the limit, and
    after one quiet window the next request passes."""
    key = redis_prefix + "retry"
    interval, flags, sizes = 0.4 / 50, [], []
    start = time.monotonic()
    for i in range(100):
        delay = start + i * interval - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        flags.append(exercise.hit(redis_client, key, 5, 400)[0])
        sizes.append(redis_client.zcard(key))
    assert sum(flags[:5]) == 5, "the first five requests of a fresh window must pass"
    assert sum(flags) > 5, "a retrying client was blocked for good: rejected requests counted"
    assert max(sizes) <= 5, f"the window held {max(sizes)} entries for a limit of 5"
    time.sleep(0.4)
    assert exercise.hit(redis_client, key, 5, 400)[0] is True


def test_remaining_and_retry_after(
    exercise: ModuleType, redis_client: redis.Redis, redis_prefix: str
) -> None:
    """hit() returns (allowed, remaining, retry_after_ms): remaining counts down to 0, a denial
    says how long to wait (0 < retry_after_ms <= window), and waiting that long is enough."""
    key = redis_prefix + "ra"
    assert exercise.hit(redis_client, key, 2, 300) == (True, 1, 0)
    assert exercise.hit(redis_client, key, 2, 300) == (True, 0, 0)
    allowed, remaining, retry_after_ms = exercise.hit(redis_client, key, 2, 300)
    assert (allowed, remaining) == (False, 0)
    assert 0 < retry_after_ms <= 300
    time.sleep(retry_after_ms / 1000 + 0.01)
    assert exercise.hit(redis_client, key, 2, 300)[0] is True


def test_retry_after_is_when_the_oldest_entry_leaves(
    exercise: ModuleType, redis_client: redis.Redis, redis_prefix: str
) -> None:
    """A denial's retry_after_ms is the time until the OLDEST entry leaves the window — when the
    next request can pass — not the whole window, and not the newest entry's wait. The window
    (limit 3 per 60 s) already holds entries from `age`, `age / 2` and 1 s ago by the server's
    clock, `age` chosen at random between 20 and 40 s: the answer is 60 s - `age` (less the few
    ms the call takes)."""
    key = redis_prefix + "oldest"
    seconds, micros = redis_client.time()
    now_ms = seconds * 1000 + micros // 1000
    age = 20_000 + secrets.randbelow(20_000)
    redis_client.zadd(key, {"old": now_ms - age, "mid": now_ms - age // 2, "new": now_ms - 1_000})
    allowed, remaining, retry_after_ms = exercise.hit(redis_client, key, 3, 60_000)
    assert (allowed, remaining) == (False, 0)
    expected = 60_000 - age
    assert expected - 5_000 < retry_after_ms <= expected, (
        f"retry_after_ms {retry_after_ms}: the oldest entry leaves the window in {expected} ms"
    )
    assert redis_client.zcard(key) == 3, "a denied request was added to the window"


def test_the_key_expires(
    exercise: ModuleType, redis_client: redis.Redis, redis_prefix: str
) -> None:
    """An idle client's sorted set must not stay in Redis forever: the key has a TTL no longer
    than the window."""
    key = redis_prefix + "ttl"
    exercise.hit(redis_client, key, 3, 5_000)
    assert 0 < redis_client.pttl(key) <= 5_000


def test_the_clock_is_the_server_clock(
    exercise: ModuleType, redis_client: redis.Redis, redis_prefix: str
) -> None:
    """Every app server must share one clock, the Redis server's: watched with MONITOR, the script
    hit() runs calls TIME, and the command hit() sends carries no timestamp of the application's
    (no argument within a day of the current time in s, ms or µs)."""
    key = redis_prefix + "clock"
    marker = redis_prefix + "end-of-hit"
    seen: list[dict[str, str]] = []
    with redis_client.monitor() as monitor:  # type: ignore[no-untyped-call]  # unannotated in redis-py
        exercise.hit(redis_client, key, 3, 60_000)
        redis_client.echo(marker)
        while True:
            entry = monitor.next_command()
            if marker in entry["command"]:
                break
            seen.append(entry)
    now = time.time()
    scripts, script_calls, inside = [], [], False
    for entry in seen:
        if entry["client_type"] == "lua":
            if inside:
                script_calls.append(entry["command"].split(" ", 1)[0].upper())
            continue
        words = entry["command"].split(" ")
        inside = words[0].upper() in ("EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO") and key in words
        if inside:
            scripts.append(words)
    assert scripts, "hit() sent no EVAL/EVALSHA for its key: the limiter must be one script"
    assert "TIME" in script_calls, "the script never asks Redis for the time (redis.call('TIME'))"
    for words in scripts:
        stamps = [
            word
            for word in words
            if word.isdigit()
            and any(abs(int(word) / scale - now) < 86_400 for scale in (1, 1e3, 1e6))
        ]
        assert not stamps, f"hit() sends the application's clock to the script: {stamps}"


@pytest.mark.parametrize(
    ("limit", "window_ms"),
    [(5, 2**62), (5, 10**20), (5, 0), (5, -1_000), (0, 1_000), (-1, 1_000), (10**20, 1_000)],
    ids=[
        "window-past-pexpire",
        "window-not-an-int64",
        "window-0",
        "window-negative",
        "limit-0",
        "limit-negative",
        "limit-past-int64",
    ],
)
def test_bad_arguments_are_an_error_and_write_nothing(
    exercise: ModuleType, redis_client: redis.Redis, redis_prefix: str, limit: int, window_ms: int
) -> None:
    """Limit and window must be whole numbers >= 1, the limit at most MAX_LIMIT (past 2^63 Lua's
    doubles turn remaining negative) and the window at most MAX_WINDOW_MS; anything
    else is an error reply (redis.ResponseError) and the key is not created. A script is not a
    transaction: a PEXPIRE that fails after the ZADD leaves a sorted set that never expires, and a
    window of 0 or less would make PEXPIRE delete the key and let every request through."""
    key = redis_prefix + "bad"
    with pytest.raises(redis.ResponseError):
        exercise.hit(redis_client, key, limit, window_ms)
    assert redis_client.exists(key) == 0
