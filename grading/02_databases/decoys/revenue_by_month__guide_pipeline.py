"""Decoy for 02.5, built from the guide's aggregation: every status counts, months are UTC months
(``$month`` without a time zone), and only months that have a row come back (no zero-fill).
It must fail the grading tests.

Caught by test_matches_the_ground_truth_in_seoul.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pymongo.database import Database


def revenue_pipeline(year: int, tz: str) -> list[dict[str, Any]]:
    start, end = datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
    return [
        {"$match": {"createdAt": {"$gte": start, "$lt": end}}},  # all statuses, UTC year
        {
            "$group": {
                "_id": {"$month": "$createdAt"},  # UTC month
                "orders": {"$sum": 1},
                "revenue": {"$sum": "$totalAmount"},
            }
        },
        {"$sort": {"_id": 1}},
        {"$limit": 12},
    ]


def revenue_by_month(db: Database[Any], year: int, tz: str = "Asia/Seoul") -> list[dict[str, int]]:
    return [
        {"month": row["_id"], "orders": row["orders"], "revenue": row["revenue"]}
        for row in db.orders.aggregate(revenue_pipeline(year, tz))
    ]
