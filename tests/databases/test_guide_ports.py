"""Every defect of guide-defects §2.1, 2.2, 2.8 and 2.9, shown on the faithful port and absent in the
reference. Each test runs the same check against both and expects opposite outcomes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.exc import DataError, IntegrityError, ProgrammingError
from sqlalchemy.orm import Session

from guide.databases import migration as guide_migration
from guide.databases import prisma_schema
from guide.databases import queries as guide_queries
from guide.databases import user_service as guide_service
from reference.databases import catalog, migrate, pagination, queries, seed, user_service
from reference.databases.explain import UnsafeExplainError, explain
from reference.databases.models import Base


@pytest.fixture
def ref(pg_url: str, pg_engine: Engine) -> Engine:
    migrate.upgrade(pg_url)
    return pg_engine


@pytest.fixture
def guide_db(pg_url: str, pg_engine: Engine) -> Engine:
    guide_migration.apply(pg_url)
    return pg_engine


def _insert(engine: Engine, email: str, **extra: object) -> None:
    columns = {"email": email, "name": "N", "password_hash": "h", **extra}
    sql = f"INSERT INTO users ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)})"
    with engine.begin() as conn:
        conn.execute(text(sql), columns)


# --- 2.1 the SQL migration ------------------------------------------------------------------


def test_guide_migration_has_two_redundant_indexes(guide_db: Engine) -> None:
    with guide_db.connect() as conn:
        pairs = {(a.name, b.name) for a, b in catalog.redundant_indexes(conn)}
    assert pairs == {
        ("idx_users_email", "users_email_key"),
        ("idx_users_status", "idx_users_status_created"),
    }


def test_reference_migration_has_none(ref: Engine) -> None:
    with ref.connect() as conn:
        assert catalog.redundant_indexes(conn) == []


@pytest.mark.parametrize("column", ["status", "created_at", "updated_at"])
def test_guide_migration_lets_an_explicit_null_in(guide_db: Engine, column: str) -> None:
    _insert(guide_db, "n@x.com", **{column: None})
    with guide_db.connect() as conn:
        assert (
            conn.execute(text(f"SELECT count(*) FROM users WHERE {column} IS NULL")).scalar() == 1
        )


@pytest.mark.parametrize("column", ["status", "created_at", "updated_at"])
def test_reference_migration_refuses_null(ref: Engine, column: str) -> None:
    with pytest.raises(IntegrityError, match="not-null"):
        _insert(ref, "n@x.com", **{column: None})


def test_guide_email_unique_is_case_sensitive(guide_db: Engine) -> None:
    _insert(guide_db, "a@x.com")
    _insert(guide_db, "A@X.com")  # the same mailbox, a second account
    with guide_db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM users")).scalar() == 2


def test_reference_email_unique_ignores_case(ref: Engine) -> None:
    _insert(ref, "a@x.com")
    with pytest.raises(IntegrityError):
        _insert(ref, "A@X.com")


def test_guide_has_no_role(guide_db: Engine) -> None:
    with guide_db.connect() as conn:
        assert "role" not in catalog.columns(conn, "users")


def test_reference_has_role(ref: Engine) -> None:
    with ref.connect() as conn:
        assert catalog.columns(conn, "users")["role"].nullable is False


# --- 2.2 EXPLAIN, CTE, keyset ----------------------------------------------------------------


@pytest.fixture
def shop(ref: Engine) -> Engine:
    with ref.begin() as conn:
        seed.seed_users(conn, 2_000)
        seed.seed_orders(conn, per_user=5)
        conn.execute(text("ANALYZE"))
    return ref


def test_guide_aggregate_returns_password_hash(shop: Engine) -> None:
    with shop.connect() as conn:
        guide_rows = guide_queries.guide_aggregate(conn)
        reference_rows = queries.recent_users_with_order_counts(conn)
    assert "password_hash" in guide_rows[0]
    assert not hasattr(reference_rows[0], "password_hash")


def test_guide_aggregate_joins_everything_before_limiting(shop: Engine) -> None:
    with shop.connect() as conn:
        guide = explain(conn, guide_queries.GUIDE_AGGREGATE)
        lateral = explain(conn, queries.RECENT_USERS_WITH_ORDER_COUNTS, {"limit": 20})
    assert guide.rows == lateral.rows == 20
    # The guide reads all ~1,800 active users and their ~9,000 orders to keep 20.
    assert guide.rows_processed > 10_000
    assert lateral.rows_processed < 500


def test_guide_cte_drops_total_spent_and_has_no_order(shop: Engine) -> None:
    with shop.connect() as conn:
        guide_rows = guide_queries.guide_cte(conn)
        guide_plan = explain(conn, guide_queries.GUIDE_CTE)
        top = queries.top_spenders(conn, limit=50)
        reference_plan = explain(conn, queries.TOP_SPENDERS, {"limit": 50})
    assert "total_spent" not in guide_rows[0]
    assert "Sort" not in guide_plan.node_types  # no ORDER BY: rows come in join order
    assert [s.total_spent_cents for s in top] == sorted(
        (s.total_spent_cents for s in top), reverse=True
    )
    assert "Sort" in reference_plan.node_types


@pytest.fixture
def tied(ref: Engine) -> Engine:
    with ref.begin() as conn:
        seed.seed_users(conn, 1_000, ties=10)
    return ref


def test_guide_keyset_skips_rows_that_share_a_timestamp(tied: Engine) -> None:
    seen: list[object] = []
    with tied.connect() as conn:
        page = guide_queries.guide_keyset_page(conn, seed.EPOCH.replace(year=2100), limit=7)
        while page:
            seen += [row["id"] for row in page]
            page = guide_queries.guide_keyset_page(conn, page[-1]["created_at"], limit=7)
    assert len(set(seen)) == len(seen) == 700  # 3 of every 10 tied rows are never shown


def test_reference_keyset_returns_every_row_once(tied: Engine) -> None:
    seen: list[object] = []
    with tied.connect() as conn:
        result = pagination.keyset_page(conn, None, limit=7)
        seen += [row.id for row in result.items]
        while result.next_cursor:
            result = pagination.keyset_page(conn, result.next_cursor, limit=7)
            seen += [row.id for row in result.items]
    assert len(set(seen)) == len(seen) == 1_000


def test_guide_explain_analyze_really_deletes(ref: Engine) -> None:
    with ref.begin() as conn:
        seed.seed_users(conn, 5)
    with ref.begin() as conn:
        guide_queries.explain_analyze(conn, "DELETE FROM users")
    with ref.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM users")).scalar() == 0


def test_reference_explain_refuses_to_run_a_delete(ref: Engine) -> None:
    with ref.begin() as conn:
        seed.seed_users(conn, 5)
    with ref.begin() as conn, pytest.raises(UnsafeExplainError):
        explain(conn, "DELETE FROM users")
    with ref.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM users")).scalar() == 5


# --- 2.8 the Prisma schema -------------------------------------------------------------------


def _diffs(conn: Connection, metadata: Any) -> list[str]:
    context = MigrationContext.configure(conn, opts={"compare_type": True})
    return [repr(d) for d in compare_metadata(context, metadata)]


def test_prisma_model_drifts_from_the_database(ref: Engine) -> None:
    with ref.connect() as conn:
        guide_diffs = _diffs(conn, prisma_schema.PrismaBase.metadata)
        reference_diffs = _diffs(conn, Base.metadata)
    assert any("'id'" in d and "UUID" in d.upper() for d in guide_diffs)  # text vs uuid
    assert any("User_status_createdAt_idx" in d for d in guide_diffs)
    assert reference_diffs == []


def test_prisma_string_id_is_text_against_a_uuid_column(ref: Engine) -> None:
    with Session(ref) as session:
        session.add(prisma_schema.User(email="e@x.com", password_hash="h", name="E"))
        with pytest.raises(ProgrammingError, match="is of type uuid but expression is of type"):
            session.commit()


def test_prisma_enum_names_do_not_match_sql_values(ref: Engine) -> None:
    guide_type = prisma_schema.PrismaBase.metadata.tables["users"].c.status.type
    reference_type = Base.metadata.tables["users"].c.status.type
    assert isinstance(guide_type, sa.Enum)
    assert isinstance(reference_type, sa.Enum)
    guide_labels = guide_type.enums  # what SQLAlchemy sends: member names
    reference_labels = reference_type.enums
    with ref.connect() as conn:
        sql_values = conn.execute(text("SELECT enum_range(NULL::user_status)::text[]")).scalar()
        with pytest.raises(DataError, match="ACTIVE"):
            conn.execute(text("SELECT CAST(:s AS user_status)"), {"s": guide_labels[0]})
    assert guide_labels != sql_values
    assert reference_labels == sql_values


# --- 2.9 findMany -----------------------------------------------------------------------------


def test_guide_search_treats_percent_as_a_wildcard(ref: Engine) -> None:
    for i, name in enumerate(["50% off", "500 club"]):
        _insert(ref, f"p{i}@x.com", name=name)
    with Session(ref) as session:
        guide = guide_service.find_many(session, search="50%")
    with Session(ref) as session:
        fixed = user_service.find_many(session, search="50%")
    assert sorted(u.name for u in guide["users"]) == ["50% off", "500 club"]
    assert [u.name for u in fixed.items] == ["50% off"]


def test_guide_schema_has_no_index_for_contains_search(guide_db: Engine) -> None:
    with guide_db.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (email, name, password_hash) "
                "SELECT 'u' || g || '@x.com', 'User ' || g, 'h' FROM generate_series(1, 2000) g"
            )
        )
        conn.execute(text("ANALYZE users"))
        conn.execute(text("SET LOCAL enable_seqscan = off"))
        plan = explain(conn, "SELECT id FROM users WHERE name ILIKE '%ser 123%'")
    assert plan.indexes_used == ()  # even with seq scans discouraged, nothing else can serve it


def test_reference_schema_serves_contains_search_from_trigrams(ref: Engine) -> None:
    with ref.begin() as conn:
        seed.seed_users(conn, 2_000)
        conn.execute(text("ANALYZE users"))
        conn.execute(text("SET LOCAL enable_seqscan = off"))
        plan = explain(conn, "SELECT id FROM users WHERE name ILIKE '%ser 123%'")
    assert plan.indexes_used == ("ix_users_name_email_trgm",)


def _pages_under_two_plans(engine: Engine, fetch: Any) -> tuple[list[Any], list[Any]]:
    """Page 1…20 (7 per page) planned as an index scan, then as a seq scan + sort."""
    results = []
    for force_sort in (False, True):
        ids: list[Any] = []
        for page in range(1, 21):
            with Session(engine) as session:
                if force_sort:
                    session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
                    session.execute(text("SET LOCAL enable_indexscan = off"))
                    session.execute(text("SET LOCAL enable_bitmapscan = off"))
                ids += fetch(session, page)
        results.append(ids)
    return results[0], results[1]


def test_guide_page_order_depends_on_the_plan(tied: Engine) -> None:
    by_index, by_sort = _pages_under_two_plans(
        tied, lambda s, p: [u.id for u in guide_service.find_many(s, page=p, limit=7)["users"]]
    )
    assert by_index != by_sort  # ties come back in whatever order the plan yields


def test_reference_page_order_is_the_same_under_any_plan(tied: Engine) -> None:
    by_index, by_sort = _pages_under_two_plans(
        tied, lambda s, p: [u.id for u in user_service.find_many(s, page=p, limit=7).items]
    )
    assert by_index == by_sort


def test_guide_page_zero_is_a_database_error(ref: Engine) -> None:
    with Session(ref) as session, pytest.raises(DataError, match="OFFSET must not be negative"):
        guide_service.find_many(session, page=0)
    with Session(ref) as session, pytest.raises(ValueError, match="page must be"):
        user_service.find_many(session, page=0)


def test_guide_limit_is_unbounded(ref: Engine) -> None:
    with ref.begin() as conn:
        seed.seed_users(conn, 300)
    with Session(ref) as session:
        assert len(guide_service.find_many(session, limit=1_000_000)["users"]) == 300
    with Session(ref) as session, pytest.raises(ValueError, match="limit"):
        user_service.find_many(session, limit=1_000_000)


def test_guide_find_many_leaks_the_password_hash(ref: Engine) -> None:
    _insert(ref, "h@x.com", password_hash="$argon2id$secret")
    with Session(ref) as session:
        guide_user = guide_service.find_many(session)["users"][0]
        assert guide_user.password_hash == "$argon2id$secret"
    with Session(ref) as session:
        assert not hasattr(user_service.find_many(session).items[0], "password_hash")


@pytest.fixture
def insert_after_page_query(ref: Engine) -> Iterator[None]:
    fired: list[bool] = []

    def hook(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not fired and "LIMIT" in statement:
            fired.append(True)
            _insert(ref, "late@x.com")

    event.listen(ref, "after_cursor_execute", hook)
    yield
    event.remove(ref, "after_cursor_execute", hook)
    assert fired


def test_guide_total_comes_from_another_snapshot(
    ref: Engine, insert_after_page_query: None
) -> None:
    with ref.begin() as conn:
        seed.seed_users(conn, 10)
    with Session(ref) as session:
        result = guide_service.find_many(session, limit=5)
    assert result["total"] == 11  # counted a row the page query could not have seen


def test_reference_total_comes_from_the_page_snapshot(
    ref: Engine, insert_after_page_query: None
) -> None:
    with ref.begin() as conn:
        seed.seed_users(conn, 10)
    with Session(ref) as session:
        result = user_service.find_many(session, limit=5)
    assert result.total == 10
