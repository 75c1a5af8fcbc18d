"""EXPLAIN as data, an index that removes the Sort, LIMIT-before-JOIN (LATERAL) and a CTE that keeps
its totals."""

from __future__ import annotations

from collections import defaultdict

import pytest
from sqlalchemy import Engine, text

from reference.databases import migrate, queries, seed
from reference.databases.explain import UnsafeExplainError, explain, explain_dml, summarise

NEWEST_USERS = "SELECT id, email, name FROM users ORDER BY created_at DESC, id DESC LIMIT 20"


@pytest.fixture
def engine(pg_url: str, pg_engine: Engine) -> Engine:
    migrate.upgrade(pg_url)
    return pg_engine


def test_summary_reads_nodes_rows_and_buffers(engine: Engine) -> None:
    with engine.begin() as conn:
        seed.seed_users(conn, 50)
        plan = explain(conn, "SELECT id FROM users WHERE email LIKE :p", {"p": "user1%"})
    assert plan.analyzed
    assert plan.node_types[0] in {"Seq Scan", "Bitmap Heap Scan", "Index Scan"}
    assert plan.rows == 11  # user1, user10 … user19
    assert plan.execution_ms is not None
    assert plan.execution_ms >= 0
    assert plan.shared_hit_blocks + plan.shared_read_blocks > 0


def test_summarise_parses_explain_json_text() -> None:
    document = (
        '[{"Plan": {"Node Type": "Limit", "Plan Rows": 20, "Actual Rows": 20, "Actual Loops": 1,'
        ' "Plans": [{"Node Type": "Index Scan", "Relation Name": "users", "Index Name": "ix",'
        ' "Plan Rows": 100, "Actual Rows": 20, "Actual Loops": 1}]},'
        ' "Planning Time": 0.1, "Execution Time": 0.2}]'
    )
    plan = summarise(document)
    assert plan.node_types == ("Limit", "Index Scan")
    assert plan.indexes_used == ("ix",)
    assert plan.rows_processed == 40
    assert plan.outline() == "Limit\n  Index Scan on users using ix"


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM users",
        "UPDATE users SET name = 'x'",
        "WITH gone AS (DELETE FROM users RETURNING id) SELECT count(*) FROM gone",
    ],
)
def test_explain_refuses_to_analyze_a_write(engine: Engine, statement: str) -> None:
    with engine.begin() as conn:
        seed.seed_users(conn, 5)
    with engine.begin() as conn, pytest.raises(UnsafeExplainError, match="explain_dml"):
        explain(conn, statement)
    with engine.connect() as conn:
        assert (
            conn.execute(text("SELECT count(*) FROM users WHERE name LIKE 'User%'")).scalar() == 5
        )


def test_explain_dml_runs_the_write_and_rolls_it_back(engine: Engine) -> None:
    with engine.begin() as conn:
        seed.seed_users(conn, 5)
    with engine.begin() as conn:
        plan = explain_dml(conn, "DELETE FROM users")
        assert plan.has("ModifyTable")
        assert plan.nodes[1].actual_rows == 5  # it really deleted five rows…
        assert conn.execute(text("SELECT count(*) FROM users")).scalar() == 5  # …and undid it


def test_an_index_turns_seq_scan_and_sort_into_an_index_scan(engine: Engine) -> None:
    """On 100k rows: without (created_at, id) the newest-20 query sorts; with it, no Sort node."""
    with engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_users_created_at_id, ix_users_status_created_at_id"))
        seed.seed_users(conn, 100_000)
        conn.execute(text("ANALYZE users"))
        before = explain(conn, NEWEST_USERS)
        conn.execute(text("CREATE INDEX ix_users_created_at_id ON users (created_at, id)"))
        conn.execute(text("ANALYZE users"))
        after = explain(conn, NEWEST_USERS)
    assert "Sort" in before.node_types
    assert any(t.endswith("Seq Scan") for t in before.node_types)
    assert after.node_types == ("Limit", "Index Scan")
    assert after.indexes_used == ("ix_users_created_at_id",)
    assert after.rows_processed < before.rows_processed / 100


@pytest.fixture
def shop(engine: Engine) -> Engine:
    with engine.begin() as conn:
        seed.seed_users(conn, 2_000)
        seed.seed_orders(conn, per_user=5)
        conn.execute(text("ANALYZE"))
    return engine


def test_lateral_gives_the_guide_aggregates_result(shop: Engine) -> None:
    with shop.connect() as conn:
        rewritten = queries.recent_users_with_order_counts(conn, 20)
        guide_shape = conn.execute(
            text(
                "SELECT u.id, COUNT(o.id) AS order_count FROM users u "
                "LEFT JOIN orders o ON o.user_id = u.id WHERE u.status = 'active' "
                "GROUP BY u.id ORDER BY u.created_at DESC LIMIT 20"
            )
        ).all()
    assert [(r.id, r.order_count) for r in rewritten] == [tuple(r) for r in guide_shape]
    assert len(rewritten) == 20
    assert {r.order_count for r in rewritten} == {5}


def test_lateral_touches_far_fewer_rows_than_join_then_limit(shop: Engine) -> None:
    join_then_limit = (
        "SELECT u.id, u.email, u.name, u.created_at, COUNT(o.id) AS order_count FROM users u "
        "LEFT JOIN orders o ON o.user_id = u.id WHERE u.status = 'active' "
        "GROUP BY u.id ORDER BY u.created_at DESC LIMIT 20"
    )
    with shop.connect() as conn:
        guide = explain(conn, join_then_limit)
        lateral = explain(conn, queries.RECENT_USERS_WITH_ORDER_COUNTS, {"limit": 20})
    assert lateral.rows_processed * 20 < guide.rows_processed
    assert "Sort" not in lateral.node_types


def test_queries_never_return_password_hash(shop: Engine) -> None:
    with shop.connect() as conn:
        for sql in (queries.RECENT_USERS_WITH_ORDER_COUNTS, queries.TOP_SPENDERS):
            columns = conn.execute(text(sql), {"limit": 1}).keys()
            assert "password_hash" not in columns


def test_top_spenders_keeps_total_spent_and_orders_by_it(shop: Engine) -> None:
    with shop.connect() as conn:
        spenders = queries.top_spenders(conn, limit=10)
        rows = conn.execute(
            text(
                "SELECT u.id, u.status, o.status AS order_status, o.total_cents FROM users u "
                "LEFT JOIN orders o ON o.user_id = u.id"
            )
        ).all()
    spent: dict[object, int] = defaultdict(int)
    for row in rows:
        if row.status == "active":
            spent[row.id] += row.total_cents if row.order_status == "delivered" else 0
    expected = sorted(spent.items(), key=lambda kv: (-kv[1], str(kv[0])))[:10]
    assert [(s.id, s.total_spent_cents) for s in spenders] == expected
