"""Grading for exercise 06.3: single flight with a deadline (exercises/06_caching/get_or_compute.py).

Graded by fetches the fetcher itself counts (each one a real PostgreSQL query), by what every
concurrent caller got back, and by whether a waiter gave up when its own deadline said so."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from types import ModuleType
from typing import Any

import psycopg
import pytest
import redis

from reference.config import Settings


class Fetcher:
    """Counts its calls; each call is ``SELECT pg_sleep(seconds)`` on the course database.

    At most 10 queries run at once (like an application's connection pool), so an answer that
    fetches 50 times does not take 50 of the server's 100 connections from everyone else."""

    def __init__(self, database_url: str, seconds: float, result: Any) -> None:
        self.database_url, self.seconds, self.result = database_url, seconds, result
        self.calls = 0
        self._lock = threading.Lock()
        self._pool = threading.BoundedSemaphore(10)

    def __call__(self) -> Any:
        with self._lock:
            self.calls += 1
        with self._pool, psycopg.connect(self.database_url) as conn:
            conn.execute("SELECT pg_sleep(%s)", (self.seconds,))
        return self.result


def together(n: int, call: Callable[[], Any]) -> list[Any]:
    """``call()`` from ``n`` threads released at once; each result, or the exception it raised."""
    barrier = threading.Barrier(n)

    def one(_: int) -> Any:
        barrier.wait(timeout=30)
        try:
            return call()
        except Exception as error:  # noqa: BLE001 — reported by the test
            return error

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(one, range(n)))


def no_errors(results: list[Any]) -> None:
    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, f"{len(errors)} callers raised, e.g. {type(errors[0]).__name__}: {errors[0]}"


def test_cold_key_fifty_readers_one_fetch(
    exercise: ModuleType, redis_client: redis.Redis, redis_prefix: str, settings: Settings
) -> None:
    """50 threads ask for one cold key at once; the fetch takes 300 ms. Exactly one fetch, and all
    50 get its value (check-then-set without a lock lets them all fetch)."""
    fetch = Fetcher(settings.database_url, 0.3, {"id": 7, "name": "Ada"})
    key = redis_prefix + "user:7"
    results = together(50, lambda: exercise.get_or_compute(redis_client, key, fetch, 30))
    no_errors(results)
    assert fetch.calls == 1, f"{fetch.calls} fetches for one cold key"
    assert results == [{"id": 7, "name": "Ada"}] * 50


def test_missing_key_costs_one_fetch(
    exercise: ModuleType, redis_client: redis.Redis, redis_prefix: str, settings: Settings
) -> None:
    """20 threads ask for a row that does not exist (fetch returns None): at most one fetch, then
    none for the next caller either — the miss is cached (negatively), not re-queried per caller."""
    fetch = Fetcher(settings.database_url, 0.1, None)
    key = redis_prefix + "user:404"
    results = together(20, lambda: exercise.get_or_compute(redis_client, key, fetch, 30))
    no_errors(results)
    assert results == [None] * 20
    assert exercise.get_or_compute(redis_client, key, fetch, 5) is None
    assert fetch.calls <= 1, f"{fetch.calls} fetches for a missing key"


@pytest.mark.parametrize("falsy", [0, "", []])
def test_falsy_values_are_cached(
    exercise: ModuleType, redis_client: redis.Redis, redis_prefix: str, falsy: Any
) -> None:
    """0, "" and [] are values: three calls, one fetch (``if cached:`` treats them as misses)."""
    calls: list[int] = []

    def fetch() -> Any:
        calls.append(1)
        return falsy

    for _ in range(3):
        assert exercise.get_or_compute(redis_client, redis_prefix + "k", fetch, 5) == falsy
    assert len(calls) == 1


def test_lease_outlives_a_slow_fetch(
    exercise: ModuleType,
    redis_client: redis.Redis,
    redis_prefix: str,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """LOCK_TTL_MS lowered to 100 ms, a 500 ms fetch, 10 threads: still one fetch — the lease must
    be extended while the fetch runs (a lock that simply expires lets a second fetcher in)."""
    monkeypatch.setattr(exercise, "LOCK_TTL_MS", 100)
    fetch = Fetcher(settings.database_url, 0.5, "profile")
    key = redis_prefix + "slow"
    results = together(10, lambda: exercise.get_or_compute(redis_client, key, fetch, 30))
    no_errors(results)
    assert fetch.calls == 1, f"{fetch.calls} fetches: the lock expired during the fetch"
    assert results == ["profile"] * 10


def test_waiters_give_up_at_their_own_deadline(
    exercise: ModuleType, redis_client: redis.Redis, redis_prefix: str
) -> None:
    """A fetch hangs. A waiter with deadline=0.2 raises a TimeoutError (not RecursionError) well
    within 5 s, while a waiter with deadline=60 keeps waiting and gets the value once the fetch
    finishes (a hard-coded or ignored deadline fails one of the two)."""
    key = redis_prefix + "hung"
    hung, release = threading.Event(), threading.Event()

    def hung_fetch() -> str:
        hung.set()
        release.wait(timeout=60)
        return "late"

    outcome: dict[str, Any] = {}

    def call(name: str, fetch: Callable[[], Any], deadline: float) -> None:
        try:
            outcome[name] = exercise.get_or_compute(redis_client, key, fetch, deadline)
        except BaseException as error:  # noqa: BLE001 — RecursionError included
            outcome[name] = error

    holder = threading.Thread(target=call, args=("holder", hung_fetch, 60), daemon=True)
    holder.start()
    try:
        started = time.monotonic()
        while not hung.wait(timeout=0.05):
            assert holder.is_alive(), f"the first caller returned without fetching: {outcome}"
            assert time.monotonic() - started < 10, "the first caller never called fetch()"
        patient = threading.Thread(target=call, args=("patient", hung_fetch, 60), daemon=True)
        hasty = threading.Thread(target=call, args=("hasty", hung_fetch, 0.2), daemon=True)
        patient.start()
        hasty.start()
        hasty.join(timeout=5)
        assert not hasty.is_alive(), "a waiter with deadline=0.2 was still waiting after 5 s"
        assert isinstance(outcome["hasty"], TimeoutError), (
            f"deadline passed: expected a TimeoutError, got {outcome['hasty']!r}"
        )
        patient.join(timeout=1.0)
        assert patient.is_alive(), (
            f"a waiter with deadline=60 gave up after about a second: {outcome.get('patient')!r}"
        )
    finally:
        release.set()
    patient.join(timeout=10)
    holder.join(timeout=10)
    assert outcome.get("patient") == "late"
    assert outcome.get("holder") == "late"


CHILD = """
import importlib.util, json, sys, threading
import psycopg, redis
path, redis_url, database_url, prefix = sys.argv[1:5]
spec = importlib.util.spec_from_file_location("learner_06_3", path)
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
client = redis.Redis.from_url(redis_url, decode_responses=True)

def fetch():
    client.incr(prefix + "fetches")
    with psycopg.connect(database_url) as conn:
        conn.execute("SELECT pg_sleep(0.5)")
    return {"answer": 42}

results = []
barrier = threading.Barrier(5)

def one():
    barrier.wait(timeout=30)
    try:
        results.append(module.get_or_compute(client, prefix + "shared", fetch, 30))
    except Exception as error:
        results.append(repr(error))

client.rpush(prefix + "ready", 1)
client.blpop([prefix + "go"], timeout=30)
threads = [threading.Thread(target=one) for _ in range(5)]
for t in threads: t.start()
for t in threads: t.join()
print(json.dumps(results))
"""


def test_two_processes_one_fetch(
    exercise: ModuleType, redis_client: redis.Redis, redis_prefix: str, settings: Settings
) -> None:
    """Two processes, five threads each, one cold key: still exactly one fetch. A lock that lives in
    one process (threading.Lock, a dict) cannot stop the other process."""
    assert exercise.__file__ is not None
    args = [exercise.__file__, settings.redis_url, settings.database_url, redis_prefix]
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(2)
    ]
    try:
        deadline = time.monotonic() + 60
        while int(redis_client.llen(redis_prefix + "ready")) < len(children):
            for child in children:
                if child.poll() is not None:
                    _, err = child.communicate()
                    pytest.fail(f"a child process exited before starting: {err.decode()[-2000:]}")
            assert time.monotonic() < deadline, "the child processes did not start within 60 s"
            time.sleep(0.05)
        redis_client.rpush(redis_prefix + "go", 1, 1)
        outputs = [child.communicate(timeout=60) for child in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
    for child, (out, err) in zip(children, outputs, strict=True):
        assert child.returncode == 0, err.decode()[-2000:]
        assert json.loads(out) == [{"answer": 42}] * 5
    assert redis_client.get(redis_prefix + "fetches") == "1"


@pytest.mark.parametrize("deadline", [0, -1, float("nan"), float("inf")])
def test_bad_deadline_is_a_value_error(
    exercise: ModuleType, redis_client: redis.Redis, redis_prefix: str, deadline: float
) -> None:
    """A deadline that is not a positive, finite number of seconds is a ValueError, before any
    Redis traffic or fetch."""
    with pytest.raises(ValueError, match="deadline"):
        exercise.get_or_compute(redis_client, redis_prefix + "k", lambda: 1, deadline)
