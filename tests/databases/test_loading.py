"""N+1 shown and fixed: statement counts from a before_cursor_execute hook."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from reference.databases import migrate, seed
from reference.databases.loading import count_statements, order_totals_eager, order_totals_lazy


@pytest.fixture
def shop(pg_url: str, pg_engine: Engine) -> Engine:
    migrate.upgrade(pg_url)
    with pg_engine.begin() as conn:
        seed.seed_users(conn, 50)
        seed.seed_orders(conn, per_user=3)
    return pg_engine


@pytest.mark.parametrize("n", [5, 20])
def test_lazy_loading_sends_one_query_per_user(shop: Engine, n: int) -> None:
    with Session(shop) as session, count_statements(shop) as counter:
        totals = order_totals_lazy(session, limit=n)
    assert len(totals) == n
    assert counter.count == 1 + n


@pytest.mark.parametrize("n", [5, 20])
def test_selectinload_sends_two_queries_whatever_n(shop: Engine, n: int) -> None:
    with Session(shop) as session, count_statements(shop) as counter:
        eager = order_totals_eager(session, limit=n)
    with Session(shop) as session:
        assert eager == order_totals_lazy(session, limit=n)
    assert counter.count == 2


def test_neither_loads_password_hash(shop: Engine) -> None:
    with Session(shop) as session, count_statements(shop) as counter:
        order_totals_lazy(session, limit=3)
        order_totals_eager(session, limit=3)
    assert counter.statements
    assert not any("password_hash" in s for s in counter.statements)
