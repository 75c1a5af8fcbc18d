"""The stale-set race (guide-defects.md §6.1), forced with events: delete-after-commit leaves the
old value cached; the generation-guarded fill (reference.caching.invalidation) leaves nothing stale
under the very same interleaving."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

import pytest
import redis
from sqlalchemy import Engine, text

from reference.caching.invalidation import NaiveUserCache, VersionedUserCache, update_user_name

DEADLINE_S = 10  # only a bound on a hang; the interleaving itself is forced by the events


class UserCache(Protocol):
    after_fetch: Callable[[], None]

    def get(self, user_id: str) -> dict[str, Any] | None: ...
    def rename(self, user_id: str, name: str) -> None: ...


def force_stale_set_race(cache: UserCache, user_id: str) -> dict[str, Any] | None:
    """Reader misses and reads the old row → writer commits and invalidates → reader stores what it
    read. Returns what the reader returned."""
    fetched, resume = threading.Event(), threading.Event()

    def pause() -> None:
        fetched.set()
        assert resume.wait(DEADLINE_S)

    cache.after_fetch = pause
    result: list[dict[str, Any] | None] = []
    reader = threading.Thread(target=lambda: result.append(cache.get(user_id)))
    reader.start()
    assert fetched.wait(DEADLINE_S)  # the reader holds the OLD row, not yet stored
    cache.after_fetch = lambda: None
    cache.rename(user_id, "New Name")  # commit, then invalidate
    resume.set()
    reader.join(DEADLINE_S)
    assert not reader.is_alive()
    return result[0]


def test_delete_after_commit_is_beaten_by_the_forced_race(
    redis: redis.Redis, prefix: str, users: list[str], pg_engine: Engine
) -> None:
    cache = NaiveUserCache(redis, pg_engine, f"{prefix}users")
    seen = force_stale_set_race(cache, users[0])
    assert seen is not None
    assert seen["name"] == "User 1"  # the reader read before the commit: fine for that one read
    # ...but it stored that old value after the writer's delete: stale until the TTL
    assert cache.get(users[0])["name"] == "User 1"  # type: ignore[index]
    assert cache.fetch(users[0])["name"] == "New Name"  # type: ignore[index]


def test_generation_guard_leaves_nothing_stale_under_the_same_race(
    redis: redis.Redis, prefix: str, users: list[str], pg_engine: Engine
) -> None:
    cache = VersionedUserCache(redis, pg_engine, f"{prefix}users")
    seen = force_stale_set_race(cache, users[0])
    assert seen is not None
    assert seen["name"] == "User 1"
    # the reader's fill was refused: the generation moved while it held the old row
    assert redis.hget(f"{prefix}users:{users[0]}", "data") is None
    assert cache.get(users[0])["name"] == "New Name"  # type: ignore[index]
    assert cache.get(users[0])["name"] == "New Name"  # type: ignore[index]  # now a hit


def test_generation_guard_still_caches_and_invalidates(
    redis: redis.Redis, prefix: str, users: list[str], pg_engine: Engine
) -> None:
    fetches: list[str] = []
    cache = VersionedUserCache(redis, pg_engine, f"{prefix}users")
    fetch = cache.fetch
    cache.fetch = lambda uid: fetches.append(uid) or fetch(uid)  # type: ignore[func-returns-value]
    assert cache.get(users[1])["name"] == "User 2"  # type: ignore[index]
    assert cache.get(users[1])["name"] == "User 2"  # type: ignore[index]
    assert len(fetches) == 1
    cache.rename(users[1], "Renamed")
    assert cache.get(users[1])["name"] == "Renamed"  # type: ignore[index]
    assert len(fetches) == 2
    key = f"{prefix}users:{users[1]}"
    assert 0 < redis.pttl(key) <= 300_000  # a bump on an expired hash does not live forever
    redis.delete(key)
    assert cache.invalidate(users[1]) == 1
    assert 0 < redis.pttl(key) <= 300_000


def test_a_fill_that_lands_before_the_bump_is_invalidated_by_it(
    redis: redis.Redis, prefix: str, users: list[str], pg_engine: Engine
) -> None:
    # Reader reads the old row and stores it; the writer's commit had happened, its bump comes now.
    cache = VersionedUserCache(redis, pg_engine, f"{prefix}users")
    fetch = cache.fetch
    old = fetch(users[2])
    cache.fetch = lambda _uid: old
    update_user_name(pg_engine, users[2], "Later")
    assert cache.get(users[2])["name"] == "User 3"  # type: ignore[index]  # old value stored
    cache.fetch = fetch
    cache.invalidate(users[2])  # the writer's post-commit bump
    assert cache.get(users[2])["name"] == "Later"  # type: ignore[index]


@pytest.mark.parametrize("key", ["", "a\x00b", "x" * 201], ids=["empty", "nul", "oversize"])
def test_hostile_keys_are_refused(
    redis: redis.Redis, prefix: str, pg_engine: Engine, key: str
) -> None:
    for cache in (
        VersionedUserCache(redis, pg_engine, f"{prefix}u"),
        NaiveUserCache(redis, pg_engine, f"{prefix}u"),
    ):
        with pytest.raises(ValueError, match="cache key"):
            cache.get(key)
    with pytest.raises(ValueError, match="cache key"):
        VersionedUserCache(redis, pg_engine, f"{prefix}u").invalidate(key)


def test_generation_guard_holds_when_a_read_lands_inside_the_writers_commit(
    redis: redis.Redis, prefix: str, users: list[str], pg_engine: Engine
) -> None:
    """The other window: the writer is held INSIDE its COMMIT (a deferred trigger waiting on an
    advisory lock the test holds) while a reader reads the still-old row and fills. The bump after
    the commit must still win."""
    with pg_engine.begin() as conn:
        conn.execute(
            text(
                "CREATE FUNCTION gate() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN PERFORM pg_advisory_xact_lock(61); RETURN NULL; END $$;"
                "CREATE CONSTRAINT TRIGGER gate AFTER UPDATE ON users DEFERRABLE INITIALLY "
                "DEFERRED FOR EACH ROW EXECUTE FUNCTION gate()"
            )
        )
    cache = VersionedUserCache(redis, pg_engine, f"{prefix}users")
    waiting = text(
        "SELECT count(*) > 0 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    )
    with pg_engine.connect() as holder:
        holder.execute(text("SELECT pg_advisory_lock(61)"))
        holder.commit()
        writer = threading.Thread(target=cache.rename, args=(users[0], "Committed"))
        writer.start()
        deadline = time.monotonic() + DEADLINE_S
        while not holder.execute(waiting).scalar_one():  # until the writer waits in its COMMIT
            holder.rollback()
            assert writer.is_alive()
            assert time.monotonic() < deadline
            time.sleep(0.01)
        assert cache.get(users[0])["name"] == "User 1"  # type: ignore[index]  # filled, old
        holder.execute(text("SELECT pg_advisory_unlock(61)"))
        holder.commit()
        writer.join(DEADLINE_S)
    assert cache.get(users[0])["name"] == "Committed"  # type: ignore[index]
