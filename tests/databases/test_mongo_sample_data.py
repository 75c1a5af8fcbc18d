"""The generated shop data say what the notebook says of them (``notebooks/02_databases_mongodb.ipynb``
§4): exactly the number of orders asked for, a time zone that changes every month's revenue, and
more signup months than the guide's ``$limit 12`` shows. Plain Python, no server.
"""

from __future__ import annotations

from datetime import date

import pytest

from reference.databases.mongo.sample_data import expected_monthly_revenue, generate_shop

FIRST = date(2024, 1, 1)


@pytest.mark.parametrize(("seed", "orders"), [(1, 600), (2, 600), (3, 200), (2024, 600)])
def test_exactly_the_orders_asked_for(seed: int, orders: int) -> None:
    _, generated = generate_shop(seed, first_month=FIRST, orders=orders)
    assert len(generated) == orders


@pytest.mark.parametrize("seed", [1, 2, 3, 2024])
def test_seoul_and_utc_disagree_in_every_month(seed: int) -> None:
    users, orders = generate_shop(seed, first_month=FIRST)
    seoul = expected_monthly_revenue(users, orders, first_month=FIRST, tz="Asia/Seoul")
    utc = expected_monthly_revenue(users, orders, first_month=FIRST, tz="UTC")
    assert [s.month for s in seoul] == [u.month for u in utc]
    assert all(s.revenue != u.revenue for s, u in zip(seoul, utc, strict=True))
    assert seoul[4].orders == 0 < utc[4].orders  # May is empty in Seoul only


@pytest.mark.parametrize("seed", [1, 2, 3, 2024])
def test_active_users_signed_up_in_more_than_twelve_months(seed: int) -> None:
    users, _ = generate_shop(seed, first_month=FIRST)
    months = {u["createdAt"].strftime("%Y-%m") for u in users if u["status"] == "active"}
    assert len(months) > 12
