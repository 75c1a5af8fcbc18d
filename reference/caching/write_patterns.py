"""Write-through and write-behind (캐싱 전략 › 캐싱 패턴), with what each costs shown.

**Write-through** (:func:`update_user`): the database commits first, then the new row is written
to the cache. The database is the source of truth: a cache that is down costs a counted failure
(``cache.stats.redis_errors``) and a later miss, never the write. (Setting the cache *before* the
commit would serve a value that a rollback then unmakes.) Two writers of one row can still reach
the cache in the opposite order of their commits; where that matters, invalidate with a generation
instead (:mod:`reference.caching.invalidation`).

**Write-behind** (:class:`WriteBehind`, :class:`StreamWorker`): the write goes to the cache and to a
Redis Stream (``XADD``) and returns; a worker in a consumer group reads it (``XREADGROUP``), applies
it to PostgreSQL, then acknowledges (``XACK``). A worker that dies between read and ack leaves the
entries *pending* in the group (``XPENDING``): another worker takes them over with ``XAUTOCLAIM``
once they have been idle long enough, so nothing is lost — applies must be idempotent, since the
dead worker may have written to the database before dying. Entries recovered late land after newer
ones: keep one stream per key range, or compare versions, where order matters.

What write-behind *does* lose — the guide's table does not say so (guide-defects.md §6.1): every
write the caller was told succeeded but which the worker had not applied yet, if Redis itself loses
the stream. A Redis without persistence (no AOF) restarted empties the stream; with
``appendonly yes`` and ``appendfsync always`` the stream survives a restart
(:class:`reference.caching.scratch_redis.ScratchRedis` runs a throwaway server to show both). Taught in
``notebooks/06_caching_aside.ipynb`` §4.
"""

from __future__ import annotations

import uuid
from typing import Any

import redis
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from reference.caching.aside import CacheAside, parse_user_id, user_row
from reference.databases.models import User

Entry = tuple[str, dict[str, str]]


def update_user(
    engine: Engine, cache: CacheAside[dict[str, Any]], user_id: str, *, name: str
) -> dict[str, Any] | None:
    """Write-through: commit ``name``, then cache the committed row. ``None``: no such user.

    A cache failure after the commit is counted in ``cache.stats`` and swallowed: the write stands
    and the next read misses (the old entry may remain until its TTL if Redis came back in
    between — the reason the TTL stays).
    """
    uid = parse_user_id(user_id)
    with Session(engine) as session, session.begin():
        user = session.scalars(
            update(User).where(User.id == uid).values(name=name).returning(User)
        ).one_or_none()
        row = None if user is None else user_row(user)
    if row is not None:
        cache.put(user_id, row)
    return row


class WriteBehind:
    """The writer's side: cache first, then ``XADD`` to the stream; the database comes later."""

    def __init__(
        self, client: redis.Redis, cache: CacheAside[dict[str, Any]], stream: str, group: str
    ) -> None:
        self.client = client
        self.cache = cache
        self.stream = stream
        self.group = group

    def create_group(self) -> None:
        """The consumer group, starting at the stream's beginning (created if needed)."""
        try:
            self.client.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except redis.exceptions.ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise

    def update_user(self, user_id: str, *, name: str) -> str:
        """Queue the rename and return the stream entry id; the database is not touched."""
        parse_user_id(user_id)
        current = self.cache.get(user_id)
        if current is not None:
            self.cache.put(user_id, {**current, "name": name})
        entry_id = self.client.xadd(self.stream, {"user_id": user_id, "name": name})
        return str(entry_id)


class StreamWorker:
    """One consumer of the group: applies queued renames to PostgreSQL, then acknowledges them."""

    def __init__(
        self, client: redis.Redis, engine: Engine, stream: str, group: str, consumer: str
    ) -> None:
        self.client = client
        self.engine = engine
        self.stream = stream
        self.group = group
        self.consumer = consumer

    def read(self, count: int = 100) -> list[Entry]:
        """``XREADGROUP … >``: new entries, now pending for this consumer until acknowledged."""
        reply: Any = self.client.xreadgroup(
            self.group, self.consumer, {self.stream: ">"}, count=count
        )
        return [(str(i), dict(f)) for _stream, entries in reply or [] for i, f in entries]

    def apply(self, entries: list[Entry]) -> None:
        """Write the entries to the database (idempotent: a retried entry sets the same name),
        commit, then ``XACK`` — acknowledged only once the database has them."""
        if not entries:
            return
        with Session(self.engine) as session, session.begin():
            for _entry_id, fields in entries:
                session.execute(
                    update(User)
                    .where(User.id == uuid.UUID(fields["user_id"]))
                    .values(name=fields["name"])
                )
        self.client.xack(self.stream, self.group, *(entry_id for entry_id, _ in entries))

    def poll(self, count: int = 100) -> int:
        """Read, apply, acknowledge; the number of entries handled."""
        entries = self.read(count)
        self.apply(entries)
        return len(entries)

    def recover(self, min_idle_ms: int) -> int:
        """Take over entries another consumer left pending for ``min_idle_ms`` (``XAUTOCLAIM``),
        apply and acknowledge them; the number recovered."""
        total, start = 0, "0-0"
        while True:
            start, claimed, *_ = self.client.xautoclaim(
                self.stream, self.group, self.consumer, min_idle_ms, start_id=start
            )
            entries = [(str(i), dict(f)) for i, f in claimed if f is not None]
            self.apply(entries)
            total += len(entries)
            if str(start) == "0-0":
                return total


def pending_count(client: redis.Redis, stream: str, group: str) -> int:
    """How many entries the group has delivered but nobody acknowledged (``XPENDING``)."""
    return int(client.xpending(stream, group)["pending"])
