"""Grading for exercise 02.5: delivered revenue per local month (exercises/02_databases/revenue_by_month.py)."""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pymongo import MongoClient, monitoring
from pymongo.database import Database

from reference.config import Settings
from reference.databases.mongo.sample_data import generate_shop


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
    """Orders generated afresh for every run for 2024 (and a little of 2023 and 2025), with one
    month left empty and orders a few minutes either side of every Seoul midnight that starts a
    month."""
    _, orders = generate_shop(
        secrets.randbelow(2**31),
        first_month=date(2024, 1, 1),
        months=12,
        empty_month=secrets.randbelow(12),
    )
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
    silently shifts every month after it. The test data leave one month empty."""
    got = exercise.revenue_by_month(mongo_db, 2024, "Asia/Seoul")
    assert [row["month"] for row in got] == list(range(1, 13))
    empty = [row["month"] for row in truth(shop, 2024, "Asia/Seoul") if row["orders"] == 0]
    assert empty, "the generated data should leave a month empty"
    for month in empty:
        assert got[month - 1] == {"month": month, "orders": 0, "revenue": 0}


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


class Commands(monitoring.CommandListener):
    """What a client sent to the server and how many documents came back."""

    def __init__(self) -> None:
        self.sent: list[monitoring.CommandStartedEvent] = []
        self.documents = 0

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.sent.append(event)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        cursor = event.reply.get("cursor") or {}
        self.documents += len(cursor.get("firstBatch", [])) + len(cursor.get("nextBatch", []))

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


@pytest.fixture
def listened(
    mongo_db: Database[Any], settings: Settings
) -> Iterator[tuple[Database[Any], Commands]]:
    """The test's database through a client that records every command it sends."""
    commands = Commands()
    client: MongoClient[dict[str, Any]] = MongoClient(
        settings.mongodb_url, serverSelectionTimeoutMS=5000, event_listeners=[commands]
    )
    try:
        yield client[mongo_db.name], commands
    finally:
        client.close()


def test_the_database_does_the_grouping(
    exercise: ModuleType,
    shop: list[dict[str, Any]],
    listened: tuple[Database[Any], Commands],
) -> None:
    """Filtering and grouping happen in MongoDB: you send one `aggregate` on orders whose pipeline
    has a $group stage, no `find`, and at most twelve documents (one per month) come back. Loading
    every order (find(), or an aggregate with only a $match) and summing in Python moves the whole
    collection for twelve numbers."""
    db, commands = listened
    got = exercise.revenue_by_month(db, 2024, "Asia/Seoul")
    assert got == truth(shop, 2024, "Asia/Seoul")
    names = [event.command_name for event in commands.sent]
    assert "find" not in names, "orders were read with find(): aggregate in the database"
    aggregates = [event.command for event in commands.sent if event.command_name == "aggregate"]
    assert aggregates, f"no aggregate command was sent (sent: {names})"
    stages = {name for command in aggregates for stage in command["pipeline"] for name in stage}
    assert "$group" in stages, f"the pipeline has no $group stage, only {sorted(stages)}"
    assert commands.documents <= 12, (
        f"{commands.documents} documents came back for twelve months: group in the database"
    )
