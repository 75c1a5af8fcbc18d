"""Order-status events over PostgreSQL LISTEN/NOTIFY, one channel per user.

Pattern: transactional notification. ``publish_order_status`` runs ``pg_notify`` inside the same
transaction as the ``UPDATE``, so listeners hear about a change only if it commits. Each user has
their own channel (``order_status_<uuid hex>``) and a subscriber LISTENs only on the channel derived
from its *authenticated* caller, so scoping is structural — there is no argument that names whose
orders to watch (the guide's ``orderStatusChanged(userId)`` let anyone watch anyone).

Trade-off: one LISTEN connection per subscriber is simple and fine for a course; at scale, one
listener per process fans out to in-memory queues. Either way the number of open subscriptions is
bounded (:class:`SubscriptionSlots`): each holds a PostgreSQL connection, and a client opening
hundreds would use up the database's ``max_connections`` for every application on it — the
GraphQL twin of gRPC's bound on update streams. Taught in
``notebooks/01_api_design_graphql.ipynb``.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg import sql
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from reference.api_design.graphql.errors import ResourceExhausted
from reference.databases.models import Order, OrderStatus

MAX_SUBSCRIPTIONS = 16  # open subscriptions per server, each one PostgreSQL connection


class SubscriptionSlots:
    """A server-wide bound on open subscriptions: :meth:`slot` holds one for as long as a
    subscription runs, or raises ``ResourceExhausted`` at once when all are taken.

    Every subscription of one server runs on its event loop, so the check and the count happen
    with no ``await`` between them and need no lock.
    """

    def __init__(self, limit: int = MAX_SUBSCRIPTIONS) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        self.open = 0

    @contextmanager
    def slot(self) -> Iterator[None]:
        if self.open >= self.limit:
            raise ResourceExhausted(
                f"this server already runs {self.limit} subscriptions; retry later"
            )
        self.open += 1
        try:
            yield
        finally:  # the client unsubscribed, disconnected, or the stream failed
            self.open -= 1


@dataclass(frozen=True)
class OrderStatusChange:
    order_id: uuid.UUID
    user_id: uuid.UUID
    status: OrderStatus
    total_cents: int
    created_at: datetime


def order_channel(user_id: uuid.UUID) -> str:
    """The NOTIFY channel of one user's order events (an identifier under 63 bytes)."""
    return f"order_status_{user_id.hex}"


async def publish_order_status(session: AsyncSession, order: Order) -> None:
    """Queue a notification for ``order``'s owner; delivered when the transaction commits."""
    payload = json.dumps(
        {
            "order_id": str(order.id),
            "user_id": str(order.user_id),
            "status": order.status.value,
            "total_cents": order.total_cents,
            "created_at": order.created_at.isoformat(),
        }
    )
    await session.execute(select(func.pg_notify(order_channel(order.user_id), payload)))


def _parse(payload: str) -> OrderStatusChange:
    data = json.loads(payload)
    return OrderStatusChange(
        order_id=uuid.UUID(data["order_id"]),
        user_id=uuid.UUID(data["user_id"]),
        status=OrderStatus(data["status"]),
        total_cents=int(data["total_cents"]),
        created_at=datetime.fromisoformat(data["created_at"]),
    )


async def listen_order_status(
    database_url: str, user_id: uuid.UUID
) -> AsyncIterator[OrderStatusChange]:
    """Yield ``user_id``'s order-status changes until the consumer stops iterating.

    ``database_url`` is a plain ``postgresql://`` URL. The connection closes when the generator is
    closed (the client unsubscribed or disconnected).
    """
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(order_channel(user_id))))
        async for notification in conn.notifies():
            change = _parse(notification.payload)
            if change.user_id == user_id:  # defence in depth: the channel already scopes it
                yield change


def wait_for_listeners(
    database_url: str, channel: str, count: int = 1, timeout: float = 5.0
) -> int:
    """Block until ``count`` sessions LISTEN on ``channel`` (so a NOTIFY sent now is heard).

    A subscription starts listening asynchronously; tests and notebooks call this before publishing
    so the first event is not sent into the void. Returns the number of listeners seen.
    """
    deadline = time.monotonic() + timeout
    with psycopg.connect(database_url, autocommit=True) as conn:
        while True:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND query ILIKE 'LISTEN %%' AND position(%s in query) > 0",
                (channel,),
            ).fetchone()
            seen = int(row[0]) if row else 0
            if seen >= count or time.monotonic() > deadline:
                return seen
            time.sleep(0.02)
