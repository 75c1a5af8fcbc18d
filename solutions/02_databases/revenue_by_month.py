"""Taught in notebooks/02_databases_mongodb.ipynb §4.

Exercise 02.5: delivered revenue per local month, with one MongoDB aggregation.

The guide's aggregation summed every order status, grouped by UTC months and dropped the months that
had no orders. Write the version finance can use: for one calendar ``year`` in the business time zone
``tz``, count the **delivered** orders and sum their ``totalAmount`` per **local** month of the order's
``createdAt``, and return all twelve months — a month without delivered orders is a row of zeros.

The ``orders`` collection holds documents like::

    {"userId": ObjectId(…), "status": "delivered", "totalAmount": 12000,
     "createdAt": datetime(2024, 1, 31, 15, 30)}   # BSON dates are UTC instants

``status`` is one of pending, paid, shipped, delivered, cancelled. Do the filtering and grouping in
the database (``db.orders.aggregate(...)`` with a ``$group`` stage), not by loading every order into
Python: the grader records the commands your client sends and the documents that come back (at most
one per month).
``reference.databases.mongo.period_bounds`` turns local months into UTC instants for you.
"""

from __future__ import annotations

from datetime import date  # noqa: F401, RUF100 - for your solution
from typing import Any

from pymongo.database import Database

from reference.databases.mongo import period_bounds  # noqa: F401, RUF100 - a helper for you


def revenue_pipeline(year: int, tz: str) -> list[dict[str, Any]]:
    """The aggregation over ``orders``: one row per local month of ``year`` that has delivered
    orders, shaped ``{"_id": <month 1..12>, "orders": <count>, "revenue": <sum of totalAmount>}``."""
    start, end = period_bounds(date(year, 1, 1), 12, tz)
    return [
        {"$match": {"status": "delivered", "createdAt": {"$gte": start, "$lt": end}}},
        {
            "$group": {
                "_id": {"$month": {"date": "$createdAt", "timezone": tz}},
                "orders": {"$sum": 1},
                "revenue": {"$sum": "$totalAmount"},
            }
        },
    ]


def revenue_by_month(db: Database[Any], year: int, tz: str = "Asia/Seoul") -> list[dict[str, int]]:
    """Twelve rows, January first: ``{"month": 1..12, "orders": int, "revenue": int}``."""
    rows = {row["_id"]: row for row in db.orders.aggregate(revenue_pipeline(year, tz))}
    return [
        {
            "month": month,
            "orders": int(rows.get(month, {}).get("orders", 0)),
            "revenue": int(rows.get(month, {}).get("revenue", 0)),
        }
        for month in range(1, 13)
    ]
