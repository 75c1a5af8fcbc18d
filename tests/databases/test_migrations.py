"""The Alembic migrations: the guide's users table done right, reversible, and in step with the models."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import IntegrityError

from reference.config import to_sqlalchemy_url
from reference.databases import catalog, migrate
from reference.databases.models import OrderStatus, UserRole, UserStatus

PAST = datetime(2020, 1, 1, tzinfo=UTC)


@pytest.fixture
def engine(pg_url: str, pg_engine: Engine) -> Engine:
    migrate.upgrade(pg_url)
    return pg_engine


def _insert_user(engine: Engine, email: str, **extra: object) -> None:
    columns = {"email": email, "name": "N", "password_hash": "h", **extra}
    names = ", ".join(columns)
    values = ", ".join(f":{k}" for k in columns)
    with engine.begin() as conn:
        conn.execute(text(f"INSERT INTO users ({names}) VALUES ({values})"), columns)


def test_upgrade_downgrade_upgrade_is_clean(pg_url: str) -> None:
    migrate.upgrade(pg_url)
    assert migrate.current_revision(pg_url) == migrate.head_revision()
    migrate.downgrade(pg_url, "base")
    assert migrate.current_revision(pg_url) is None
    engine = create_engine(to_sqlalchemy_url(pg_url))
    try:
        with engine.connect() as conn:
            leftovers = conn.execute(
                text(
                    "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = 'public' AND c.relname NOT LIKE 'alembic_version%'"
                )
            ).scalar_one()
            types = conn.execute(
                text("SELECT count(*) FROM pg_type WHERE typname IN ('user_status', 'user_role')")
            ).scalar_one()
            assert (leftovers, types) == (0, 0)
            assert catalog.extensions(conn) == []
    finally:
        engine.dispose()
    migrate.upgrade(pg_url)
    assert migrate.check(pg_url) == []


def test_models_and_migrations_do_not_drift(engine: Engine, pg_url: str) -> None:
    assert migrate.check(pg_url) == []


def test_check_detects_drift(engine: Engine, pg_url: str) -> None:
    with engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_users_created_at_id"))
        conn.execute(text("ALTER TABLE users ALTER COLUMN name DROP NOT NULL"))
    diffs = [repr(d) for d in migrate.check(pg_url)]
    assert any("ix_users_created_at_id" in d for d in diffs)
    assert any("name" in d and "nullable" in d.lower() for d in diffs) or len(diffs) >= 2


def test_enum_values_match_the_models(engine: Engine) -> None:
    with engine.connect() as conn:
        assert conn.execute(text("SELECT enum_range(NULL::user_status)::text[]")).scalar_one() == [
            s.value for s in UserStatus
        ]
        assert catalog.enum_values(conn, "user_role") == [r.value for r in UserRole]
        assert catalog.enum_values(conn, "order_status") == [s.value for s in OrderStatus]


def test_email_is_unique_case_insensitively(engine: Engine) -> None:
    _insert_user(engine, "a@x.com")
    with pytest.raises(IntegrityError, match="uq_users_email_lower"):
        _insert_user(engine, "A@X.com")


@pytest.mark.parametrize("column", ["status", "role", "created_at", "updated_at", "token_version"])
def test_explicit_null_is_refused(engine: Engine, column: str) -> None:
    with pytest.raises(IntegrityError, match="not-null"):
        _insert_user(engine, "n@x.com", **{column: None})


def test_defaults_fill_status_role_and_timestamps(engine: Engine) -> None:
    _insert_user(engine, "d@x.com")
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT status, role, token_version, created_at, updated_at FROM users")
        ).one()
    assert (row.status, row.role, row.token_version) == ("active", "user", 0)
    assert row.created_at == row.updated_at


@pytest.mark.parametrize("table", ["users", "orders"])
def test_update_bumps_updated_at(engine: Engine, table: str) -> None:
    _insert_user(engine, "t@x.com", created_at=PAST, updated_at=PAST)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO orders (user_id, total_cents, created_at, updated_at) "
                "SELECT id, 100, :past, :past FROM users"
            ),
            {"past": PAST},
        )
    with engine.begin() as conn:
        column = "name = 'M'" if table == "users" else "total_cents = 200"
        conn.execute(text(f"UPDATE {table} SET {column}"))
        created, updated = conn.execute(text(f"SELECT created_at, updated_at FROM {table}")).one()
    assert created == PAST
    assert updated > PAST


def test_no_index_is_a_left_prefix_of_another(engine: Engine) -> None:
    with engine.connect() as conn:
        assert catalog.redundant_indexes(conn) == []
        names = {ix.name for ix in catalog.indexes(conn)}
    assert {
        "uq_users_email_lower",
        "ix_users_status_created_at_id",
        "ix_users_created_at_id",
        "ix_users_name_email_trgm",
        "ix_orders_user_id_created_at",
        "ix_orders_delivered_created_at",
        "ix_orders_created_at_id",
    } <= names


def test_trigram_index_is_gin_with_pg_trgm(engine: Engine) -> None:
    with engine.connect() as conn:
        assert "pg_trgm" in catalog.extensions(conn)
        (trgm,) = [ix for ix in catalog.indexes(conn, "users") if ix.method == "gin"]
        partial = [ix for ix in catalog.indexes(conn, "orders") if ix.predicate]
    assert trgm.keys == ("name", "email")
    assert [ix.name for ix in partial] == ["ix_orders_delivered_created_at"]


def test_orders_total_cannot_be_negative(engine: Engine) -> None:
    _insert_user(engine, "o@x.com")
    with (
        pytest.raises(IntegrityError, match="ck_orders_total_cents_non_negative"),
        engine.begin() as c,
    ):
        c.execute(text("INSERT INTO orders (user_id, total_cents) SELECT id, -1 FROM users"))


def test_check_constraints_carry_the_models_names(engine: Engine) -> None:
    """The models name the CHECK ``total_cents_non_negative`` and the metadata's naming convention makes it
    ``ck_orders_total_cents_non_negative``; the migration must create exactly that name. Given the full
    name as a plain string, Alembic applies the convention a second time
    (``ck_orders_ck_orders_total_cents_non_negative``): ``op.f()`` marks a name as final."""
    with engine.connect() as c:
        names = c.execute(
            text(
                "SELECT conname FROM pg_constraint"
                " WHERE conrelid = 'orders'::regclass AND contype = 'c' ORDER BY conname"
            )
        ).scalars()
        assert list(names) == ["ck_orders_total_cents_non_negative"]


def _extensions(pg_url: str) -> list[str]:
    engine = create_engine(to_sqlalchemy_url(pg_url))
    try:
        with engine.connect() as conn:
            return catalog.extensions(conn)
    finally:
        engine.dispose()


def _execute(pg_url: str, *statements: str) -> None:
    engine = create_engine(to_sqlalchemy_url(pg_url))
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(text(statement))
    finally:
        engine.dispose()


def test_downgrade_keeps_a_pg_trgm_that_existed_before(pg_url: str) -> None:
    """0002 installs pg_trgm only if missing; its downgrade must not drop an extension it did not
    create (someone else's trigram indexes depend on it)."""
    _execute(pg_url, "CREATE EXTENSION pg_trgm")
    migrate.upgrade(pg_url)
    migrate.downgrade(pg_url, "0001")
    assert _extensions(pg_url) == ["pg_trgm"]
    migrate.upgrade(pg_url)  # and the round trip still works
    assert migrate.check(pg_url) == []


def test_downgrade_drops_the_pg_trgm_it_created(pg_url: str) -> None:
    migrate.upgrade(pg_url)
    assert _extensions(pg_url) == ["pg_trgm"]
    migrate.downgrade(pg_url, "0001")
    assert _extensions(pg_url) == []


def test_downgrade_keeps_pg_trgm_that_another_object_now_needs(pg_url: str) -> None:
    """0002 created pg_trgm, then another trigram index started to depend on it: the downgrade
    removes 0002's own index and leaves the extension (DROP EXTENSION would fail on the
    dependency and abort the whole downgrade)."""
    migrate.upgrade(pg_url)
    _execute(
        pg_url,
        "CREATE TABLE notes (body text NOT NULL)",
        "CREATE INDEX ix_notes_body_trgm ON notes USING gin (body gin_trgm_ops)",
    )
    migrate.downgrade(pg_url, "0001")
    assert migrate.current_revision(pg_url) == "0001"
    assert _extensions(pg_url) == ["pg_trgm"]
    engine = create_engine(to_sqlalchemy_url(pg_url))
    try:
        with engine.connect() as conn:
            names = {index.name for index in catalog.indexes(conn)}
    finally:
        engine.dispose()
    assert "ix_notes_body_trgm" in names
    assert "ix_users_name_email_trgm" not in names


def test_orders_keyset_page_seeks_on_created_at_id(engine: Engine) -> None:
    """Migration 0003: a keyset page of orders is an index seek in index order (no sort, no scan
    of the rows before the cursor), as exercise 02.1 grades."""
    _insert_user(engine, "k@x.com")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO orders (user_id, total_cents, created_at) SELECT u.id, k, "
                ":past + k * interval '1 second' FROM users u, generate_series(1, 2000) AS k"
            ),
            {"past": PAST},
        )
        conn.execute(text("ANALYZE orders"))
        plan = conn.execute(
            text(
                "EXPLAIN (FORMAT JSON) SELECT id FROM orders WHERE (created_at, id) < (:t, :id) "
                "ORDER BY created_at DESC, id DESC LIMIT 20"
            ),
            {
                "t": datetime(2020, 1, 1, 0, 10, tzinfo=UTC),
                "id": "ffffffff-ffff-ffff-ffff-ffffffffffff",
            },
        ).scalar_one()
    scan = plan[0]["Plan"]["Plans"][0]
    assert scan["Node Type"] in ("Index Scan", "Index Only Scan"), scan["Node Type"]
    assert scan["Index Name"] == "ix_orders_created_at_id"
    assert "Index Cond" in scan
