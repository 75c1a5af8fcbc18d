"""Generated shop data and the plain-Python oracle the revenue aggregation is checked against.

:func:`generate_shop` makes users and exactly ``orders`` orders from a seed: every order status,
inactive users, one heavy customer, a month with no orders, users who signed up over more than twelve
months, and orders a few minutes either side of each local month boundary (``15:00 UTC`` is midnight
in Seoul) — those just after it delivered, so UTC and local months give different revenue in every
month.
:func:`expected_monthly_revenue` answers the same question as
:func:`reference.databases.mongo.aggregation.monthly_revenue` with loops over the lists — slow, obvious
and independent of MongoDB. Used by the tests and ``notebooks/02_databases_mongodb.ipynb``.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bson import ObjectId

from reference.databases.mongo.aggregation import MonthlyRevenue, month_labels, period_bounds

ORDER_STATUSES = ("pending", "paid", "shipped", "delivered", "cancelled")


def generate_shop(
    seed: int,
    *,
    first_month: date,
    months: int = 12,
    tz: str = "Asia/Seoul",
    users: int = 30,
    orders: int = 600,
    empty_month: int | None = 4,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``(users, orders)`` documents, ``orders`` of them; ``empty_month`` (an index into the period)
    gets no orders in local time."""
    rng = random.Random(seed)
    zone = ZoneInfo(tz)
    start, end = period_bounds(first_month, months, tz)
    # Orders also fall a little outside the period, to prove the bounds.
    span_start, span_end = start - timedelta(days=20), end + timedelta(days=20)
    labels = month_labels(first_month, months)
    skipped = labels[empty_month] if empty_month is not None else None

    user_docs: list[dict[str, Any]] = []
    for i in range(users):
        # About two signups a month, going back well over a year: more signup months than the
        # guide's `$limit 12` shows.
        days = 16 * i + rng.randint(0, 10)
        signup = span_start - timedelta(days=days, minutes=rng.randint(0, 1439))
        user_docs.append(
            {
                "_id": ObjectId(),
                "email": f"user{i}@example.com",
                "name": f"User {i}",
                "status": "active" if i % 5 else "inactive",
                "tags": [],
                "createdAt": signup,
                "updatedAt": signup,
            }
        )

    def local_label(moment: datetime) -> str:
        return moment.astimezone(zone).strftime("%Y-%m")

    # Either side of each local month start. Just after it, the UTC month is still the previous
    # one: those orders are delivered by active customers, so every month's revenue depends on the
    # time zone (and the empty month has revenue in UTC).
    boundary_orders: list[tuple[datetime, bool]] = []
    for label in [*labels, *month_labels(first_month, months + 1)[-1:]]:
        year, month = (int(p) for p in label.split("-"))
        boundary = datetime(year, month, 1, tzinfo=zone).astimezone(UTC)
        boundary_orders += [
            (boundary - timedelta(minutes=7), False),
            (boundary + timedelta(minutes=7), True),
        ]
    planned = [(m, disagrees) for m, disagrees in boundary_orders if local_label(m) != skipped]
    while len(planned) < orders:
        moment = span_start + timedelta(
            seconds=rng.uniform(0, (span_end - span_start).total_seconds())
        )
        if local_label(moment) != skipped:
            planned.append((moment, False))

    heavy = user_docs[1]["_id"]  # user 1 is active
    active = [user["_id"] for user in user_docs if user["status"] == "active"]
    order_docs: list[dict[str, Any]] = []
    for moment, disagrees in planned[:orders]:
        if disagrees:
            user, status = rng.choice(active), "delivered"
        else:
            user = heavy if rng.random() < 0.25 else rng.choice(user_docs)["_id"]
            status = rng.choice(ORDER_STATUSES)
        order_docs.append(
            {
                "_id": ObjectId(),
                "userId": user,
                "status": status,
                "totalAmount": rng.randint(1, 500) * 100,
                # BSON dates are milliseconds: store what the server will hand back.
                "createdAt": moment.replace(microsecond=moment.microsecond // 1000 * 1000),
            }
        )
    return user_docs, order_docs


def expected_monthly_revenue(
    users: list[dict[str, Any]],
    orders: list[dict[str, Any]],
    *,
    first_month: date,
    months: int = 12,
    tz: str = "Asia/Seoul",
) -> list[MonthlyRevenue]:
    """Delivered orders of active users, by local order month, zero-filled — computed in Python."""
    zone = ZoneInfo(tz)
    labels = month_labels(first_month, months)
    active = {user["_id"] for user in users if user["status"] == "active"}
    count: dict[str, int] = defaultdict(int)
    revenue: dict[str, int] = defaultdict(int)
    customers: dict[str, set[Any]] = defaultdict(set)
    for order in orders:
        if order["status"] != "delivered" or order["userId"] not in active:
            continue
        created = order["createdAt"]
        if created.tzinfo is None:
            created = created.replace(tzinfo=UTC)
        label = created.astimezone(zone).strftime("%Y-%m")
        if label not in labels:
            continue
        count[label] += 1
        revenue[label] += order["totalAmount"]
        customers[label].add(order["userId"])
    return [
        MonthlyRevenue(label, count[label], revenue[label], len(customers[label]))
        for label in labels
    ]
