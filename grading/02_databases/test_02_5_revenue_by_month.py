"""Grading for exercise 02.5: delivered revenue per local month (exercises/02_databases/revenue_by_month.py)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pymongo.database import Database

from course.harness.loader import load_exercise
from reference.databases.mongo.sample_data import generate_shop


@pytest.fixture
def exercise() -> ModuleType:
    return load_exercise("02.5")


def truth(orders: list[dict[str, Any]], year: int, tz: str) -> list[dict[str, int]]:
    """What finance expects, computed the slow and obvious way."""
    zone = ZoneInfo(tz)
    count: dict[int, int] = defaultdict(int)
    revenue: dict[int, int] = defaultdict(int)
    for order in orders:
        local = order["createdAt"].astimezone(zone)
        if order["status"] == "delivered" and local.year == year:
            count[local.month] += 1
            revenue[local.month] += order["totalAmount"]
    return [{"month": m, "orders": count[m], "revenue": revenue[m]} for m in range(1, 13)]


@pytest.fixture
def shop(mongo_db: Database[Any]) -> list[dict[str, Any]]:
    """Generated orders for 2024 (and a little of 2023 and 2025), with May left empty and orders
    a few minutes either side of every Seoul midnight that starts a month."""
    _, orders = generate_shop(7, first_month=date(2024, 1, 1), months=12, empty_month=4)
    mongo_db.orders.insert_many(orders)
    return orders


def test_matches_the_ground_truth_in_seoul(
    exercise: ModuleType, mongo_db: Database[Any], shop: list[dict[str, Any]]
) -> None:
    """revenue_by_month(db, 2024, "Asia/Seoul") must equal a plain-Python count of delivered
    orders per Seoul month: twelve rows {"month", "orders", "revenue"}, January first."""
    got = exercise.revenue_by_month(mongo_db, 2024, "Asia/Seoul")
    assert got == truth(shop, 2024, "Asia/Seoul")


def test_every_month_is_present_even_without_orders(
    exercise: ModuleType, mongo_db: Database[Any], shop: list[dict[str, Any]]
) -> None:
    """A month with no delivered orders is still a row, with zeros — a chart with a missing bar
    silently shifts every month after it. The test data leave May empty."""
    got = exercise.revenue_by_month(mongo_db, 2024, "Asia/Seoul")
    assert [row["month"] for row in got] == list(range(1, 13))
    assert got[4] == {"month": 5, "orders": 0, "revenue": 0}


def test_only_delivered_orders_count(exercise: ModuleType, mongo_db: Database[Any]) -> None:
    """Pending, paid, shipped and cancelled orders are not revenue: only status "delivered"
    counts."""
    moment = datetime(2024, 3, 10, 3, tzinfo=UTC)
    mongo_db.orders.insert_many(
        [
            {"status": status, "totalAmount": 100, "createdAt": moment}
            for status in ("pending", "paid", "shipped", "delivered", "cancelled")
        ]
    )
    got = exercise.revenue_by_month(mongo_db, 2024, "Asia/Seoul")
    assert got[2] == {"month": 3, "orders": 1, "revenue": 100}


def test_months_are_local_months(exercise: ModuleType, mongo_db: Database[Any]) -> None:
    """2024-01-31 15:30 UTC is already 1 February in Seoul (UTC+9): the order belongs to February
    for tz="Asia/Seoul" and to January for tz="UTC". Group by the month in the time zone given."""
    mongo_db.orders.insert_one(
        {
            "status": "delivered",
            "totalAmount": 700,
            "createdAt": datetime(2024, 1, 31, 15, 30, tzinfo=UTC),
        }
    )
    seoul = exercise.revenue_by_month(mongo_db, 2024, "Asia/Seoul")
    utc = exercise.revenue_by_month(mongo_db, 2024, "UTC")
    assert (seoul[0]["revenue"], seoul[1]["revenue"]) == (0, 700)
    assert (utc[0]["revenue"], utc[1]["revenue"]) == (700, 0)


def test_the_year_ends_at_local_midnight(exercise: ModuleType, mongo_db: Database[Any]) -> None:
    """Orders from the neighbouring years stay out: 2023-12-31 16:00 UTC is already 2024 in Seoul
    (it counts for January), 2024-12-31 15:30 UTC is already 2025 (it does not count)."""
    mongo_db.orders.insert_many(
        [
            {
                "status": "delivered",
                "totalAmount": 1,
                "createdAt": datetime(2023, 12, 31, 16, tzinfo=UTC),
            },
            {
                "status": "delivered",
                "totalAmount": 10,
                "createdAt": datetime(2024, 12, 31, 15, 30, tzinfo=UTC),
            },
            {
                "status": "delivered",
                "totalAmount": 100,
                "createdAt": datetime(2023, 6, 1, tzinfo=UTC),
            },
        ]
    )
    got = exercise.revenue_by_month(mongo_db, 2024, "Asia/Seoul")
    assert sum(row["revenue"] for row in got) == 1
    assert got[0]["revenue"] == 1
