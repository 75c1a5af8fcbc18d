"""Decoy for 02.5: an aggregate that only filters ($match), then the grouping in Python — it says
"aggregate" but still ships every delivered order. Caught by the command-listener test (no $group,
hundreds of documents).

Caught by test_the_database_does_the_grouping.
"""

from __future__ import annotations

from datetime import UTC, date
from typing import Any
from zoneinfo import ZoneInfo

from pymongo.database import Database

from reference.databases.mongo import period_bounds


def revenue_pipeline(year: int, tz: str) -> list[dict[str, Any]]:
    start, end = period_bounds(date(year, 1, 1), 12, tz)
    return [{"$match": {"status": "delivered", "createdAt": {"$gte": start, "$lt": end}}}]


def revenue_by_month(db: Database[Any], year: int, tz: str = "Asia/Seoul") -> list[dict[str, int]]:
    rows = [{"month": month, "orders": 0, "revenue": 0} for month in range(1, 13)]
    for order in db.orders.aggregate(revenue_pipeline(year, tz)):
        month = order["createdAt"].replace(tzinfo=UTC).astimezone(ZoneInfo(tz)).month
        rows[month - 1]["orders"] += 1
        rows[month - 1]["revenue"] += int(order["totalAmount"])
    return rows
