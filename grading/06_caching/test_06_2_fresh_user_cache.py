"""Grading for exercise 06.2: a user cache the stale-set race cannot beat
(exercises/06_caching/fresh_user_cache.py). Readers and writers are interleaved deterministically —
a reader held at after_fetch, a writer held inside its COMMIT by a deferred trigger waiting on an
advisory lock — and graded by what later reads return and how often the database was read."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import pytest
import redis
import redis as redis_lib
from sqlalchemy import Engine, event, text

DEADLINE_S = 10.0  # bounds a hang only: every wait below ends on an event, not on time
GATE = 606  # the advisory lock the commit gate waits on

COMMIT_GATE = """
CREATE FUNCTION grading_commit_gate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.name = 'Rollback' THEN RAISE EXCEPTION 'commit refused by the grader'; END IF;
  PERFORM pg_advisory_xact_lock(606);
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER grading_commit_gate AFTER UPDATE ON users
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION grading_commit_gate();
"""


@pytest.fixture
def db(users: list[str], pg_engine: Engine) -> Engine:
    """The users, with a gate that runs at COMMIT (after every statement of the transaction)."""
    with pg_engine.begin() as conn:
        conn.execute(text(COMMIT_GATE))
    return pg_engine


def make(exercise: ModuleType, redis: redis.Redis, db: Engine, prefix: str) -> Any:
    return exercise.UserCache(redis, db, f"{prefix}users")


def counting(cache: Any) -> list[str]:
    calls: list[str] = []
    fetch = cache.fetch

    def counted(user_id: str) -> dict[str, Any] | None:
        calls.append(user_id)
        result: dict[str, Any] | None = fetch(user_id)
        return result

    cache.fetch = counted
    return calls


def wait_until(condition: Callable[[], bool], worker: threading.Thread, failure: str) -> None:
    """Wait for ``condition`` while ``worker`` runs; fail at once if it ended without it."""
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        assert worker.is_alive() or condition(), failure
        assert time.monotonic() < deadline, failure
        time.sleep(0.01)


def name_of(cache: Any, user_id: str) -> str:
    row = cache.get(user_id)
    assert row is not None, f"get({user_id!r}) returned None for an existing user"
    return str(row["name"])


def test_reads_are_cached_and_a_rename_shows_at_once(
    exercise: ModuleType, redis: redis.Redis, db: Engine, prefix: str, users: list[str]
) -> None:
    """Two gets cost one database read (counted as SELECTs reaching PostgreSQL, whatever calls
    them); after rename returns, the next get returns the new name."""
    cache = make(exercise, redis, db, prefix)
    calls = counting(cache)
    selects: list[str] = []

    def count_select(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            selects.append(statement)

    event.listen(db, "before_cursor_execute", count_select)
    try:
        assert name_of(cache, users[0]) == "User 1"
        assert name_of(cache, users[0]) == "User 1"
    finally:
        event.remove(db, "before_cursor_execute", count_select)
    assert len(calls) == 1, f"2 gets read the database {len(calls)} times: nothing was cached"
    assert len(selects) == 1, f"2 gets sent {len(selects)} SELECTs to PostgreSQL"
    cache.rename(users[0], "Ada")
    assert name_of(cache, users[0]) == "Ada"
    assert name_of(cache, users[0]) == "Ada"
    assert len(calls) == 2, "after a rename, one read refills the cache and the next is a hit"


def test_app_servers_share_the_cache_and_see_each_others_renames(
    exercise: ModuleType, redis: redis.Redis, db: Engine, prefix: str, users: list[str]
) -> None:
    """Server B reads (and caches) a user, server A renames it: B's next get returns the new name.
    A cache kept in each process's memory cannot know about A's rename."""
    a, b = make(exercise, redis, db, prefix), make(exercise, redis, db, prefix)
    calls = counting(b)
    assert name_of(a, users[1]) == "User 2"
    assert name_of(b, users[1]) == "User 2"
    assert calls == [], "server B read the database although server A had cached the row"
    a.rename(users[1], "Grace")
    assert name_of(b, users[1]) == "Grace"


def test_reader_holding_the_old_row_while_a_rename_commits_cannot_cache_it(
    exercise: ModuleType, redis: redis.Redis, db: Engine, prefix: str, users: list[str]
) -> None:
    """The stale-set race, forced: a reader misses and reads "User 1", pauses at after_fetch;
    another server renames to "Linus" (commit + invalidation); the reader resumes and stores what it
    read. Every get after that must return "Linus" — "update, then delete the key" leaves "User 1"
    cached."""
    fetched, resume = threading.Event(), threading.Event()

    def pause() -> None:
        fetched.set()
        resume.wait(DEADLINE_S)

    reader = exercise.UserCache(redis, db, f"{prefix}users", after_fetch=pause)
    results: list[object] = []
    thread = threading.Thread(target=lambda: results.append(reader.get(users[0])))
    thread.start()
    try:
        wait_until(fetched.is_set, thread, "get never called cache.after_fetch() after its fetch")
        make(exercise, redis, db, prefix).rename(users[0], "Linus")
    finally:
        resume.set()
        thread.join(DEADLINE_S)
    assert results, "the paused reader never returned"
    assert name_of(make(exercise, redis, db, prefix), users[0]) == "Linus", (
        "the reader stored the row it read before the rename: the cache serves the old name"
    )


class RenameAfterFirstReply(redis.Connection):
    """A connection that, once ``armed`` is set, runs ``on_reply`` (once) right after reading the
    first reply that follows — the grader's way to land a rename between two Redis commands."""

    armed = threading.Event()
    on_reply: Callable[[], None] = staticmethod(lambda: None)

    def read_response(self, *args: Any, **kwargs: Any) -> Any:
        response = super().read_response(*args, **kwargs)
        cls = type(self)
        if cls.armed.is_set():
            cls.armed.clear()
            cls.on_reply()
        return response


def test_a_rename_between_the_check_and_the_store_wins(
    exercise: ModuleType, redis: redis.Redis, db: Engine, prefix: str, users: list[str]
) -> None:
    """A reader reads "User 2" and, after after_fetch, sends its first Redis command (reading
    the generation, WATCH, a script …); right after that reply another server renames to "Alan".
    The next get must return "Alan". A check-and-set in two commands (HGET, then HSET) stores the
    old row after the rename — the check must be atomic with the store (WATCH/MULTI or Lua)."""

    class Hooked(RenameAfterFirstReply):
        armed = threading.Event()

    renamed: list[bool] = []

    def rename() -> None:
        make(exercise, redis, db, prefix).rename(users[1], "Alan")
        renamed.append(True)

    Hooked.on_reply = staticmethod(rename)
    kwargs = redis.connection_pool.connection_kwargs
    hooked = redis_lib.Redis(
        connection_pool=redis_lib.ConnectionPool(connection_class=Hooked, **kwargs)
    )
    try:
        reader = exercise.UserCache(hooked, db, f"{prefix}users", after_fetch=Hooked.armed.set)
        assert reader.get(users[1]) is not None
    finally:
        hooked.close()
        hooked.connection_pool.disconnect()
    if not renamed:  # no Redis command after after_fetch: nothing was stored, rename now
        rename()
    assert name_of(make(exercise, redis, db, prefix), users[1]) == "Alan", (
        "the reader checked the generation, a rename landed, and the reader stored the old row"
    )


def test_no_key_lives_forever(
    exercise: ModuleType, redis: redis.Redis, db: Engine, prefix: str, users: list[str]
) -> None:
    """Every key the cache writes has a TTL of at most ttl_ms — after a read fills it (a user
    nobody renamed), and after a rename of a user nobody read (a generation counter without PEXPIRE stays for ever, one per
    renamed user)."""
    cache = exercise.UserCache(redis, db, f"{prefix}users", ttl_ms=60_000)
    cache.get(users[2])
    cache.get(users[0])
    cache.rename(users[1], "Edsger")
    cache.rename(users[0], "Barbara")
    cache.get(users[0])
    keys = list(redis.scan_iter(match=f"{prefix}users:*"))
    assert keys, "nothing was cached"
    for key in keys:
        assert 0 < redis.pttl(key) <= 60_000, f"{key} has no TTL (or one above ttl_ms)"


@pytest.fixture
def gate(db: Engine) -> Iterator[Callable[[], None]]:
    """Hold the commit gate (writers block inside COMMIT); the yielded function opens it."""
    holder = db.connect()
    holder.execute(text("SELECT pg_advisory_lock(:k)"), {"k": GATE})
    holder.commit()
    opened = False

    def open_gate() -> None:
        nonlocal opened
        if not opened:
            holder.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": GATE})
            holder.commit()
            opened = True

    yield open_gate
    open_gate()
    holder.close()


def wait_for_a_blocked_commit(db: Engine, writer: threading.Thread) -> None:
    query = text(
        "SELECT count(*) > 0 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    )
    with db.connect() as conn:

        def blocked() -> bool:
            conn.rollback()  # a fresh snapshot of pg_locks each time
            return bool(conn.execute(query).scalar_one())

        wait_until(blocked, writer, "the rename never reached its COMMIT")


def test_a_read_while_the_rename_is_committing_cannot_cache_the_old_row(
    exercise: ModuleType,
    redis: redis.Redis,
    db: Engine,
    prefix: str,
    users: list[str],
    gate: Callable[[], None],
) -> None:
    """A rename is held inside its COMMIT; meanwhile another server gets the user (the database
    still shows "User 3") and caches it; then the commit completes. The next get must return
    "Barbara". Invalidating BEFORE the commit (delete, set or bump first) lets that read cache the
    old row after the invalidation."""
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            make(exercise, redis, db, prefix).rename(users[2], "Barbara")
        except BaseException as error:  # noqa: BLE001 — reported below
            errors.append(error)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        wait_for_a_blocked_commit(db, thread)
        during = make(exercise, redis, db, prefix).get(users[2])
        assert during is not None
        assert during["name"] == "User 3", "a read during the commit saw the uncommitted name"
    finally:
        gate()
        thread.join(DEADLINE_S)
    assert not errors, f"rename raised {errors[0]!r}"
    assert name_of(make(exercise, redis, db, prefix), users[2]) == "Barbara", (
        "a read during the rename's commit cached the old row after the invalidation"
    )


def test_a_rename_whose_commit_fails_leaves_the_old_name(
    exercise: ModuleType, redis: redis.Redis, db: Engine, prefix: str, users: list[str]
) -> None:
    """The database refuses the commit (the grader's trigger rejects the name "Rollback"): rename
    raises, and every get still returns the committed name. Writing the cache before the commit
    serves a name the database never had."""
    cache = make(exercise, redis, db, prefix)
    assert name_of(cache, users[1]) == "User 2"
    with pytest.raises(Exception, match="commit refused"):
        cache.rename(users[1], "Rollback")
    assert name_of(cache, users[1]) == "User 2"
    assert name_of(make(exercise, redis, db, prefix), users[1]) == "User 2"


@pytest.mark.parametrize("bad", ["a\x00b", "x" * 201], ids=["nul", "oversize"])
def test_hostile_ids_are_refused(
    exercise: ModuleType, redis: redis.Redis, pg_engine: Engine, prefix: str, bad: str
) -> None:
    """A NUL byte or an id over 200 characters raises ValueError from get and from rename."""
    cache = make(exercise, redis, pg_engine, prefix)
    with pytest.raises(ValueError, match="cache key"):
        cache.get(bad)
    with pytest.raises(ValueError, match="cache key"):
        cache.rename(bad, "x")
