"""Monthly revenue: the corrected pipeline equals a plain-Python ground truth; the guide's doesn't
(guide §2.4). Data are generated with orders minutes either side of each Seoul month boundary.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import bson
import pytest
from bson import ObjectId
from pymongo.database import Database

from guide.databases import mongo_user as guide
from reference.databases.mongo import month_labels, monthly_revenue, period_bounds, revenue_pipeline
from reference.databases.mongo.sample_data import expected_monthly_revenue, generate_shop

FIRST = date(2024, 1, 1)
SEOUL = ZoneInfo("Asia/Seoul")


def load(db: Database[Any], users: list[dict[str, Any]], orders: list[dict[str, Any]]) -> None:
    db.users.insert_many(users)
    if orders:
        db.orders.insert_many(orders)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_reference_equals_python_ground_truth(mongo_db: Database[Any], seed: int) -> None:
    users, orders = generate_shop(seed, first_month=FIRST)
    # The data must contain the hard cases, or this test proves little.
    disagree = [
        o
        for o in orders
        if o["createdAt"].astimezone(UTC).strftime("%Y-%m")
        != o["createdAt"].astimezone(SEOUL).strftime("%Y-%m")
    ]
    assert len(disagree) >= 12
    load(mongo_db, users, orders)

    got = monthly_revenue(mongo_db, first_month=FIRST, months=12, tz="Asia/Seoul")
    truth = expected_monthly_revenue(users, orders, first_month=FIRST, months=12, tz="Asia/Seoul")
    assert got == truth
    assert [row.month for row in got] == month_labels(FIRST, 12)
    assert got[4].orders == 0  # the generated empty month is present, as zeros
    assert sum(row.orders for row in got) > 40


def test_guide_pipeline_disagrees_with_ground_truth(mongo_db: Database[Any]) -> None:
    users, orders = generate_shop(1, first_month=FIRST)
    load(mongo_db, users, orders)
    truth = expected_monthly_revenue(users, orders, first_month=FIRST)
    guide_rows = guide.user_stats(mongo_db)
    as_truth_shape = {
        f"{row['_id']['year']:04d}-{row['_id']['month']:02d}": row["totalRevenue"]
        for row in guide_rows
    }
    assert as_truth_shape != {row.month: row.revenue for row in truth}


def user(created: datetime, status: str = "active") -> dict[str, Any]:
    return {"_id": ObjectId(), "status": status, "createdAt": created, "name": "U", "email": "u@x"}


def order(uid: Any, created: datetime, amount: int, status: str = "delivered") -> dict[str, Any]:
    return {"userId": uid, "createdAt": created, "totalAmount": amount, "status": status}


def test_only_delivered_orders_count(mongo_db: Database[Any]) -> None:
    u = user(datetime(2023, 12, 1, tzinfo=UTC))
    march = datetime(2024, 3, 10, 3, tzinfo=UTC)
    load(mongo_db, [u], [order(u["_id"], march, 100), order(u["_id"], march, 50, "cancelled")])
    ref = monthly_revenue(mongo_db, first_month=FIRST, months=12)
    assert ref[2].revenue == 100
    assert sum(row.revenue for row in ref) == 100
    assert [row["totalRevenue"] for row in guide.user_stats(mongo_db)] == [150]  # cancelled too


def test_revenue_lands_in_the_order_month_not_the_signup_month(mongo_db: Database[Any]) -> None:
    u = user(datetime(2024, 1, 10, tzinfo=UTC))
    load(mongo_db, [u], [order(u["_id"], datetime(2024, 3, 5, tzinfo=UTC), 100)])
    ref = monthly_revenue(mongo_db, first_month=FIRST, months=12)
    assert (ref[0].revenue, ref[2].revenue) == (0, 100)
    assert guide.user_stats(mongo_db)[0]["_id"] == {"year": 2024, "month": 1}  # signup month


def test_months_are_seoul_months_not_utc(mongo_db: Database[Any]) -> None:
    # 2024-01-31 15:30 UTC is 2024-02-01 00:30 in Seoul.
    instant = datetime(2024, 1, 31, 15, 30, tzinfo=UTC)
    u = user(instant)
    load(mongo_db, [u], [order(u["_id"], instant, 100)])
    ref = monthly_revenue(mongo_db, first_month=FIRST, months=12, tz="Asia/Seoul")
    assert (ref[0].revenue, ref[1].revenue) == (0, 100)
    assert guide.user_stats(mongo_db)[0]["_id"] == {"year": 2024, "month": 1}  # UTC month


def test_period_bounds_are_local_midnights() -> None:
    start, end = period_bounds(FIRST, 12, "Asia/Seoul")
    assert start == datetime(2023, 12, 31, 15, tzinfo=UTC)
    assert end == datetime(2024, 12, 31, 15, tzinfo=UTC)


def test_empty_months_are_zero_filled_not_hidden(mongo_db: Database[Any]) -> None:
    # Activity in 14 of 16 months (signups and orders alike); the guide's $limit 12 then shows
    # twelve rows that span more than twelve months, with the gaps simply absent.
    active_months = [m for m in range(16) if m not in (3, 9)]
    users, orders = [], []
    for m in active_months:
        moment = datetime(2023 + m // 12, m % 12 + 1, 15, tzinfo=UTC)
        u = user(moment)
        users.append(u)
        orders.append(order(u["_id"], moment, 100))
    load(mongo_db, users, orders)

    guide_months = [(r["_id"]["year"], r["_id"]["month"]) for r in guide.user_stats(mongo_db)]
    assert len(guide_months) == 12
    assert (2023, 10) not in guide_months  # a gap inside the shown span, silently missing
    assert guide_months[0] == (2024, 4)  # newest first …
    assert guide_months[-1] == (2023, 3)  # … and 14 months wide

    ref = monthly_revenue(mongo_db, first_month=date(2023, 1, 1), months=16)
    assert len(ref) == 16
    assert [row.orders for row in ref] == [0 if m in (3, 9) else 1 for m in range(16)]


def test_lookup_documents_stay_small(mongo_db: Database[Any]) -> None:
    u = user(datetime(2023, 6, 1, tzinfo=UTC))
    orders = [
        order(u["_id"], datetime(2024, 1 + i % 12, 1 + i % 27, tzinfo=UTC), 100, "delivered")
        for i in range(3000)
    ]
    load(mongo_db, [u], orders)

    def largest(pipeline: list[dict[str, Any]]) -> int:
        return max(len(bson.encode(doc)) for doc in mongo_db.users.aggregate(pipeline))

    guide_size = largest(guide.USER_STATS_PIPELINE[:3])  # after $lookup + $addFields
    start, end = period_bounds(FIRST, 12, "Asia/Seoul")
    ref_size = largest(revenue_pipeline(start, end, "Asia/Seoul")[:3])  # after the $lookup
    assert guide_size > 300_000  # every order embedded: grows toward the 16 MB document limit
    assert ref_size < 2_000  # at most one small row per month, however many orders


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"months": 0}, "months must be between"),
        ({"months": 121}, "months must be between"),
        ({"tz": "Mars/Olympus"}, "unknown time zone"),
        ({"tz": "../etc"}, "unknown time zone"),
    ],
)
def test_bad_arguments_are_refused(
    mongo_db: Database[Any], kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        monthly_revenue(mongo_db, first_month=FIRST, **kwargs)
