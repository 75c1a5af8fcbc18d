"""Distributed lock: a stalled holder's late write is refused by the fencing token (guide §2.6).

The guide's lock (ported in ``guide.databases.redis_service``) releases correctly but hands out no
fencing token, cannot be renewed and cannot wait: a holder slower than the TTL means two holders
and a lost update. ``reference.databases.redis.lock`` + ``fencing`` fix it; the fenced write runs
against PostgreSQL in the test's own database.
"""

from __future__ import annotations

import threading
import time

import pytest
import redis
from sqlalchemy import Engine, text

from guide.databases.redis_service import RedisService
from reference.databases.redis import (
    LockNotAcquiredError,
    RedisLock,
    create_fenced_table,
    create_resource,
    fenced_write,
    read_fenced,
)


@pytest.fixture
def resource(pg_engine: Engine) -> Engine:
    """The demo table with one resource, ``report``, written by nobody yet (fence 0)."""
    with pg_engine.begin() as conn:
        create_fenced_table(conn)
        create_resource(conn, "report", "initial")
    return pg_engine


def wait_until_free(lock: RedisLock, timeout: float = 5.0) -> None:
    """Block until the lock key has expired — the 'stall past the TTL', without guessing a sleep."""
    deadline = time.monotonic() + timeout
    while lock.owner_token() is not None:
        assert time.monotonic() < deadline, "lock key never expired"
        time.sleep(0.01)


def test_stalled_holder_is_fenced_off(
    redis_client: redis.Redis, redis_prefix: str, resource: Engine
) -> None:
    lock = RedisLock(redis_client, "report", ttl_ms=100, prefix=redis_prefix)

    a = lock.acquire()
    assert a is not None
    assert a.fence == 1
    wait_until_free(lock)  # A stalls (GC pause, slow fetch) past its TTL

    b = lock.acquire()
    assert b is not None
    assert b.fence == 2
    with resource.begin() as conn:
        assert fenced_write(conn, "report", "written by B", b.fence) is True

    with resource.begin() as conn:  # A wakes up, still believing it holds the lock
        assert fenced_write(conn, "report", "written by A", a.fence) is False
        assert read_fenced(conn, "report") == ("written by B", 2)

    assert lock.release(a) is False  # wrong token: not A's lock any more …
    assert lock.owner_token() == b.token  # … and B's key survives
    assert lock.release(b) is True
    assert lock.owner_token() is None


def test_guide_lock_without_fencing_loses_the_update(
    redis_client: redis.Redis, redis_prefix: str, resource: Engine
) -> None:
    service = RedisService(redis_client, key_prefix=redis_prefix)
    unfenced = text("UPDATE fenced_resources SET body = :body WHERE id = :id")

    a = service.acquire_lock("report", 100)
    assert a is not None
    deadline = time.monotonic() + 5
    while redis_client.exists(f"{redis_prefix}lock:report"):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    b = service.acquire_lock("report", 10_000)
    assert b is not None  # two clients now both "hold" the lock

    with resource.begin() as conn:
        conn.execute(unfenced, {"id": "report", "body": "written by B"})
    with resource.begin() as conn:
        conn.execute(unfenced, {"id": "report", "body": "written by A"})  # nothing stops A
        assert read_fenced(conn, "report") == ("written by A", 0)  # B's update is lost

    assert service.release_lock("report", a) is False  # the guide's release itself is correct
    assert service.release_lock("report", b) is True


def test_only_the_owner_can_extend(redis_client: redis.Redis, redis_prefix: str) -> None:
    lock = RedisLock(redis_client, "job", ttl_ms=1_000, prefix=redis_prefix)
    lease = lock.acquire()
    assert lease is not None
    assert lock.extend("not-the-owner", 60_000) is False
    assert redis_client.pttl(lock.key) <= 1_000
    assert lock.extend(lease, 60_000) is True
    assert redis_client.pttl(lock.key) > 1_000
    assert lock.release(lease) is True
    assert lock.extend(lease) is False  # a released lease cannot be revived


def test_renewal_keeps_a_slow_holder_exclusive(
    redis_client: redis.Redis, redis_prefix: str
) -> None:
    lock = RedisLock(redis_client, "slow", ttl_ms=300, prefix=redis_prefix)
    rival = RedisLock(redis_client, "slow", ttl_ms=300, prefix=redis_prefix)
    lease = lock.acquire()
    assert lease is not None
    stolen = []
    for _ in range(15):  # ~0.6 s of work, twice the TTL, renewing as it goes
        time.sleep(0.04)
        assert lock.extend(lease) is True
        stolen.append(rival.try_acquire())
    assert stolen == [None] * 15
    assert lock.release(lease) is True


def test_guide_lock_cannot_be_renewed_so_a_slow_holder_shares_it(
    redis_client: redis.Redis, redis_prefix: str
) -> None:
    service = RedisService(redis_client, key_prefix=redis_prefix)
    assert service.acquire_lock("slow", 150) is not None
    assert not hasattr(service, "extend_lock")
    time.sleep(0.2)  # still working, and nothing can push the expiry out
    assert service.acquire_lock("slow", 150) is not None  # a second holder


def test_acquire_waits_a_bounded_time(redis_client: redis.Redis, redis_prefix: str) -> None:
    holder = RedisLock(redis_client, "busy", ttl_ms=30_000, prefix=redis_prefix)
    waiter = RedisLock(redis_client, "busy", ttl_ms=30_000, prefix=redis_prefix)
    held = holder.acquire()
    assert held is not None

    started = time.monotonic()
    assert waiter.acquire(wait_seconds=0.2) is None
    assert time.monotonic() - started >= 0.2  # it did wait, and it came back

    releaser = threading.Timer(0.1, holder.release, args=[held])
    releaser.start()
    got = waiter.acquire(wait_seconds=10)
    releaser.join()
    assert got is not None
    assert got.fence == held.fence + 1
    with pytest.raises(LockNotAcquiredError, match="still held"), holder.hold(wait_seconds=0.05):
        pass
    assert waiter.release(got) is True


def test_guide_acquire_gives_up_at_once(redis_client: redis.Redis, redis_prefix: str) -> None:
    service = RedisService(redis_client, key_prefix=redis_prefix)
    assert service.acquire_lock("busy", 30_000) is not None
    threading.Timer(0.05, redis_client.delete, args=[f"{redis_prefix}lock:busy"]).start()
    assert service.acquire_lock("busy", 30_000) is None  # no way to wait for the release


def test_mutual_exclusion_and_increasing_fences_under_contention(
    redis_client: redis.Redis, redis_prefix: str
) -> None:
    counter = f"{redis_prefix}counter"
    redis_client.set(counter, 0)
    fences: list[int] = []

    def worker() -> None:
        lock = RedisLock(redis_client, "counter", ttl_ms=5_000, prefix=redis_prefix)
        for _ in range(5):
            with lock.hold(wait_seconds=30) as lease:
                fences.append(lease.fence)
                value = int(redis_client.get(counter) or 0)  # a read-modify-write race …
                time.sleep(0.001)
                redis_client.set(counter, value + 1)  # … made safe only by the lock

    threads = [threading.Thread(target=worker) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert int(redis_client.get(counter) or 0) == 50
    assert fences == list(range(1, 51))  # unique, and increasing in acquisition order


def test_bad_arguments_are_refused(
    redis_client: redis.Redis, redis_prefix: str, resource: Engine
) -> None:
    with pytest.raises(ValueError, match="ttl_ms must be a positive integer"):
        RedisLock(redis_client, "x", ttl_ms=0, prefix=redis_prefix)
    with pytest.raises(ValueError, match="name must not be empty"):
        RedisLock(redis_client, "", ttl_ms=10, prefix=redis_prefix)
    with resource.begin() as conn:
        with pytest.raises(ValueError, match="fence must be a positive integer"):
            fenced_write(conn, "report", "x", 0)
        with pytest.raises(LookupError, match="does not exist"):
            fenced_write(conn, "no-such-resource", "x", 1)


def test_the_holder_writes_twice_and_a_stale_holder_still_fails(
    redis_client: redis.Redis, redis_prefix: str, resource: Engine
) -> None:
    """An equal token is the current holder writing again, not a stale one: only lower tokens are
    refused (``fence <= :f``). With ``fence < :f`` the holder could write once per lease."""
    lock = RedisLock(redis_client, "report", ttl_ms=100, prefix=redis_prefix)
    a = lock.acquire()
    assert a is not None
    wait_until_free(lock)
    b = lock.acquire()
    assert b is not None
    with resource.begin() as conn:
        assert fenced_write(conn, "report", "B, first write", b.fence) is True
        assert fenced_write(conn, "report", "B, second write", b.fence) is True
        assert fenced_write(conn, "report", "written by A", a.fence) is False
        assert read_fenced(conn, "report") == ("B, second write", b.fence)


@pytest.mark.parametrize("ttl_ms", [1.5, 0, -5, True, 10**30])
def test_extend_refuses_a_bad_ttl_like_the_constructor(
    redis_client: redis.Redis, redis_prefix: str, ttl_ms: object
) -> None:
    """A float, a bool or a TTL Redis cannot store is the constructor's ValueError, not a raw
    ResponseError from PEXPIRE; the lock keeps its TTL."""
    lock = RedisLock(redis_client, "report", ttl_ms=10_000, prefix=redis_prefix)
    lease = lock.acquire()
    assert lease is not None
    with pytest.raises(ValueError, match="ttl_ms must be a positive integer"):
        lock.extend(lease, ttl_ms)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="ttl_ms must be a positive integer"):
        RedisLock(redis_client, "report", ttl_ms=ttl_ms, prefix=redis_prefix)  # type: ignore[arg-type]
    assert 0 < redis_client.pttl(lock.key) <= 10_000


def test_fenced_write_refuses_values_postgres_cannot_store(resource: Engine) -> None:
    """A token past bigint or a NUL in the body is a ValueError before the query, not psycopg's
    DataError from inside it; nothing is written."""
    with resource.begin() as conn:
        with pytest.raises(ValueError, match="fence must be a positive integer"):
            fenced_write(conn, "report", "x", 2**63)
        with pytest.raises(ValueError, match="NUL"):
            fenced_write(conn, "report", "a\x00b", 1)
        with pytest.raises(ValueError, match="NUL"):
            create_resource(conn, "bad\x00id", "x")
        assert read_fenced(conn, "report") == ("initial", 0)
