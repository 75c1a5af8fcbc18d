"""Monthly revenue of active users, corrected from the guide's aggregation pipeline.

The guide's pipeline (``guide/databases/mongo_user.py``) ``$lookup``-ed every order into every user
document just to count and sum them (one busy customer brings the document toward the 16 MB limit),
summed every status (the SQL version counts only ``delivered``), grouped revenue by the user's
*signup* month, used UTC months for a Korean business, and ``$limit 12`` on the grouped rows hid the
months that had no row at all.

:func:`revenue_pipeline` fixes each:

- the ``$lookup`` runs a sub-pipeline that keeps only delivered orders in the period and groups them
  per order month *inside* the lookup, so each user document carries at most one small row per month;
- months are ORDER months, computed in the business time zone (``$dateToString`` with ``timezone``);
- the period is a ``$match`` on order ``createdAt`` bounds computed from local month starts.

:func:`monthly_revenue` runs it and zero-fills the months without delivered orders, so the result
always has exactly ``months`` rows, oldest first. Amounts are integers in minor units (KRW has none),
so sums are exact. Taught in ``notebooks/02_databases_mongodb.ipynb``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pymongo.database import Database

DEFAULT_TIME_ZONE: Final = "Asia/Seoul"
MAX_MONTHS: Final = 120


@dataclass(frozen=True)
class MonthlyRevenue:
    """Delivered orders of active users in one local month (``"2024-03"``)."""

    month: str
    orders: int
    revenue: int
    customers: int
    """Distinct active users with at least one delivered order that month."""


def month_labels(first_month: date, months: int) -> list[str]:
    """``["2024-01", "2024-02", …]``: ``months`` consecutive labels from ``first_month``."""
    if isinstance(months, bool) or not 1 <= months <= MAX_MONTHS:
        raise ValueError(f"months must be between 1 and {MAX_MONTHS} (got {months!r})")
    index = first_month.year * 12 + first_month.month - 1
    return [f"{(index + i) // 12:04d}-{(index + i) % 12 + 1:02d}" for i in range(months)]


def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(
            f"unknown time zone {tz!r} (use an IANA name like 'Asia/Seoul')"
        ) from error


def period_bounds(first_month: date, months: int, tz: str) -> tuple[datetime, datetime]:
    """The UTC instants where the first local month starts and the month after the last starts."""
    zone = _zone(tz)
    labels = month_labels(first_month, months + 1)

    def start_of(label: str) -> datetime:
        year, month = (int(part) for part in label.split("-"))
        return datetime(year, month, 1, tzinfo=zone).astimezone(UTC)

    return start_of(labels[0]), start_of(labels[-1])


def revenue_pipeline(
    start: datetime, end: datetime, tz: str, *, orders: str = "orders"
) -> list[dict[str, Any]]:
    """The aggregation over ``users``: one row per local order month with delivered orders."""
    _zone(tz)
    return [
        {"$match": {"status": "active"}},
        {"$project": {"_id": 1}},  # carry nothing else through the lookup
        {
            "$lookup": {
                "from": orders,
                "let": {"uid": "$_id"},
                "pipeline": [
                    {
                        "$match": {
                            "$expr": {"$eq": ["$userId", "$$uid"]},
                            "status": "delivered",
                            "createdAt": {"$gte": start, "$lt": end},
                        }
                    },
                    {
                        "$group": {
                            "_id": {
                                "$dateToString": {
                                    "format": "%Y-%m",
                                    "date": "$createdAt",
                                    "timezone": tz,
                                }
                            },
                            "orders": {"$sum": 1},
                            "revenue": {"$sum": "$totalAmount"},
                        }
                    },
                ],
                "as": "months",
            }
        },
        {"$unwind": "$months"},
        {
            "$group": {
                "_id": "$months._id",
                "orders": {"$sum": "$months.orders"},
                "revenue": {"$sum": "$months.revenue"},
                "customers": {"$sum": 1},
            }
        },
        {"$sort": {"_id": 1}},
    ]


def zero_fill(rows: list[dict[str, Any]], labels: list[str]) -> list[MonthlyRevenue]:
    """One :class:`MonthlyRevenue` per label, zeros where ``rows`` has none (rows keyed by ``_id``)."""
    by_month = {row["_id"]: row for row in rows}
    unexpected = set(by_month) - set(labels)
    if unexpected:
        raise ValueError(f"rows outside the period: {sorted(unexpected)}")
    return [
        MonthlyRevenue(
            month=label,
            orders=int(by_month.get(label, {}).get("orders", 0)),
            revenue=int(by_month.get(label, {}).get("revenue", 0)),
            customers=int(by_month.get(label, {}).get("customers", 0)),
        )
        for label in labels
    ]


def monthly_revenue(
    db: Database[Any],
    *,
    first_month: date,
    months: int = 12,
    tz: str = DEFAULT_TIME_ZONE,
    users: str = "users",
    orders: str = "orders",
) -> list[MonthlyRevenue]:
    """Exactly ``months`` rows from ``first_month`` (local months in ``tz``), oldest first."""
    labels = month_labels(first_month, months)
    start, end = period_bounds(first_month, months, tz)
    rows = list(db[users].aggregate(revenue_pipeline(start, end, tz, orders=orders)))
    return zero_fill(rows, labels)
