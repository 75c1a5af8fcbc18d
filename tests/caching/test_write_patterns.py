"""Write-behind through a Redis Stream with a consumer group: a worker that dies before XACK leaves
its entries pending, another worker recovers them with XAUTOCLAIM; a stream on a Redis without
persistence loses every queued write on restart, one with AOF keeps them (guide-defects.md §6.1:
write-behind's data loss, unstated by the guide). Write-through's tests are in test_aside.py."""

from __future__ import annotations

import uuid

import pytest
import redis
from sqlalchemy import Engine

from reference.caching.aside import CacheAside, user_fetcher
from reference.caching.scratch_redis import ScratchRedis
from reference.caching.write_patterns import StreamWorker, WriteBehind, pending_count


def test_write_behind_answers_from_the_cache_before_the_database_has_it(
    redis: redis.Redis, prefix: str, users: list[str], pg_engine: Engine
) -> None:
    fetch = user_fetcher(pg_engine)
    cache = CacheAside(redis, f"{prefix}users", fetch)
    writer = WriteBehind(redis, cache, f"{prefix}stream", "db")
    writer.create_group()
    writer.create_group()  # idempotent
    writer.update_user(users[0], name="Queued")
    assert cache.get(users[0])["name"] == "Queued"  # type: ignore[index]
    assert fetch(users[0])["name"] == "User 1"  # type: ignore[index]  # not in the database yet
    worker = StreamWorker(redis, pg_engine, f"{prefix}stream", "db", "w1")
    assert worker.poll() == 1
    assert fetch(users[0])["name"] == "Queued"  # type: ignore[index]
    assert pending_count(redis, f"{prefix}stream", "db") == 0


def test_a_worker_dying_before_ack_leaves_pending_entries_another_recovers(
    redis: redis.Redis, prefix: str, users: list[str], pg_engine: Engine
) -> None:
    fetch = user_fetcher(pg_engine)
    stream = f"{prefix}stream"
    writer = WriteBehind(redis, CacheAside(redis, f"{prefix}users", fetch), stream, "db")
    writer.create_group()
    for user_id, name in zip(users, ["A", "B", "C"], strict=True):
        writer.update_user(user_id, name=name)
    doomed = StreamWorker(redis, pg_engine, stream, "db", "doomed")
    assert len(doomed.read()) == 3  # delivered ... and the worker dies before applying or acking
    assert pending_count(redis, stream, "db") == 3
    survivor = StreamWorker(redis, pg_engine, stream, "db", "survivor")
    assert survivor.poll() == 0  # '>' only delivers new entries: the pending ones wait for a claim
    assert fetch(users[0])["name"] == "User 1"  # type: ignore[index]
    # min_idle_ms=0: claim at once (in production: longer than a worker's normal processing time)
    assert survivor.recover(min_idle_ms=0) == 3
    assert [fetch(u)["name"] for u in users] == ["A", "B", "C"]  # type: ignore[index]
    assert pending_count(redis, stream, "db") == 0
    assert survivor.recover(min_idle_ms=0) == 0


def test_recover_leaves_entries_that_are_not_idle_long_enough(
    redis: redis.Redis, prefix: str, users: list[str], pg_engine: Engine
) -> None:
    stream = f"{prefix}stream"
    writer = WriteBehind(
        redis, CacheAside(redis, f"{prefix}u", user_fetcher(pg_engine)), stream, "g"
    )
    writer.create_group()
    writer.update_user(users[0], name="Busy")
    StreamWorker(redis, pg_engine, stream, "g", "slow").read()
    other = StreamWorker(redis, pg_engine, stream, "g", "other")
    assert other.recover(min_idle_ms=3_600_000) == 0  # still being worked on: not stolen
    assert pending_count(redis, stream, "g") == 1


def test_write_behind_refuses_a_bad_id_before_queueing(
    redis: redis.Redis, prefix: str, pg_engine: Engine
) -> None:
    writer = WriteBehind(redis, CacheAside(redis, f"{prefix}u", lambda _k: None), f"{prefix}s", "g")
    with pytest.raises(ValueError, match="not a user id"):
        writer.update_user("1; DROP TABLE users", name="x")
    assert redis.exists(f"{prefix}s") == 0


@pytest.mark.parametrize(("persist", "survivors"), [(False, 0), (True, 3)], ids=["no-aof", "aof"])
def test_a_queued_write_survives_a_redis_restart_only_with_persistence(
    persist: bool, survivors: int
) -> None:
    with ScratchRedis(persist=persist) as server:
        client = server.client()
        client.xgroup_create("writes", "db", id="0", mkstream=True)
        for n in range(3):
            client.xadd("writes", {"user_id": str(uuid.uuid4()), "name": f"n{n}"})
        client.close()
        server.restart()  # SIGKILL: a crash, nothing saved that the configuration did not
        client = server.client()
        assert client.xlen("writes") == survivors
        client.close()
