"""The other half of a Redis lock: a write that the resource refuses from a stale holder.

A lock with a TTL can have two holders at once (the first stalled past the TTL). The fencing token
from :class:`reference.databases.redis.lock.RedisLock` increases with every acquire; the resource
remembers the highest token it accepted and refuses any lower one with ``UPDATE … WHERE fence <=
:f``. An *equal* token is the current holder writing again (a lease may cover many writes), so it
is accepted; ``fence < :f`` would let a holder write once per lease and make its second write look
like a lost lock. The check and the write are one statement, so no race sits between them. Taught
in ``notebooks/02_databases_redis.ipynb``.

The table is a small demo table of this module's own (``fenced_resources``), not the shared model.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import Connection, text

from reference.databases.bounds import BIGINT_MAX, check_text

TABLE: Final = "fenced_resources"

_CREATE: Final = text(
    """
    CREATE TABLE IF NOT EXISTS fenced_resources (
        id    text   PRIMARY KEY,
        body  text   NOT NULL,
        fence bigint NOT NULL DEFAULT 0 CHECK (fence >= 0)
    )
    """
)

_INSERT: Final = text(
    "INSERT INTO fenced_resources (id, body) VALUES (:id, :body) ON CONFLICT (id) DO NOTHING"
)

_FENCED_UPDATE: Final = text(
    "UPDATE fenced_resources SET body = :body, fence = :f WHERE id = :id AND fence <= :f"
)

_READ: Final = text("SELECT body, fence FROM fenced_resources WHERE id = :id")


def create_fenced_table(conn: Connection) -> None:
    """Create the demo table if it does not exist (idempotent)."""
    conn.execute(_CREATE)


def create_resource(conn: Connection, resource_id: str, body: str) -> None:
    """Insert a resource with fence 0 (no holder has written yet); a no-op if it exists."""
    check_text("resource_id", resource_id)
    check_text("body", body)
    conn.execute(_INSERT, {"id": resource_id, "body": body})


def fenced_write(conn: Connection, resource_id: str, body: str, fence: int) -> bool:
    """Write ``body`` unless a holder with a token ``> fence`` already wrote; ``True`` if written.

    ``UPDATE … WHERE id = :id AND fence <= :f``: the check and the write are one statement, so a
    stale holder cannot slip in between, and the current holder may write as often as it needs. A refused write changes nothing and returns ``False``; a
    resource that does not exist raises ``LookupError`` (it is not "refused", it is a bug in the
    caller).
    """
    if isinstance(fence, bool) or not isinstance(fence, int) or not 0 < fence <= BIGINT_MAX:
        raise ValueError(f"fence must be a positive integer token from RedisLock (got {fence!r})")
    check_text("resource_id", resource_id)
    check_text("body", body)
    result = conn.execute(_FENCED_UPDATE, {"id": resource_id, "body": body, "f": fence})
    if result.rowcount == 1:
        return True
    if read_fenced(conn, resource_id) is None:
        raise LookupError(f"resource {resource_id!r} does not exist; create_resource() it first")
    return False


def read_fenced(conn: Connection, resource_id: str) -> tuple[str, int] | None:
    """``(body, fence)`` of a resource, or ``None`` if it was never written."""
    check_text("resource_id", resource_id)
    row = conn.execute(_READ, {"id": resource_id}).one_or_none()
    return None if row is None else (str(row.body), int(row.fence))
