"""find_many: escaped search, trigram index, stable order, bounds, no hash, one snapshot."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session

from reference.databases import migrate, seed
from reference.databases.explain import explain
from reference.databases.loading import count_statements
from reference.databases.models import UserStatus
from reference.databases.user_service import MAX_LIMIT, escape_like, find_many


@pytest.fixture
def engine(pg_url: str, pg_engine: Engine) -> Engine:
    migrate.upgrade(pg_url)
    return pg_engine


def _add(engine: Engine, *names: str) -> None:
    with engine.begin() as conn:
        for i, name in enumerate(names):
            conn.execute(
                text("INSERT INTO users (email, name, password_hash) VALUES (:e, :n, 'h')"),
                {"e": f"p{i}@example.com", "n": name},
            )


def test_percent_in_search_matches_only_literally(engine: Engine) -> None:
    _add(engine, "50% off club", "500 club", "5000 reasons", "half 50%")
    with Session(engine) as session:
        result = find_many(session, search="50%")
    assert sorted(u.name for u in result.items) == ["50% off club", "half 50%"]
    assert result.total == 2


def test_underscore_and_backslash_match_literally(engine: Engine) -> None:
    _add(engine, "a_b", "axb", "c\\d", "cd")
    with Session(engine) as session:
        assert [u.name for u in find_many(session, search="a_b").items] == ["a_b"]
        # Still the same REPEATABLE READ transaction: a second call reads the same snapshot.
        assert [u.name for u in find_many(session, search="c\\d").items] == ["c\\d"]


def test_search_is_case_insensitive_on_name_and_email(engine: Engine) -> None:
    _add(engine, "Alice Kim", "Bob")
    with Session(engine) as session:
        assert [u.name for u in find_many(session, search="aLiCe").items] == ["Alice Kim"]
        assert find_many(session, search="P1@EXAMPLE").items[0].name == "Bob"


def test_escape_like() -> None:
    assert escape_like("50%_\\") == "50\\%\\_\\\\"


def test_search_can_use_the_trigram_index(engine: Engine) -> None:
    with engine.begin() as conn:
        seed.seed_users(conn, 5_000)
        conn.execute(text("ANALYZE users"))
        conn.execute(text("SET LOCAL enable_seqscan = off"))
        plan = explain(
            conn,
            "SELECT id FROM users WHERE name ILIKE :p ESCAPE '\\' OR email ILIKE :p ESCAPE '\\'",
            {"p": "%user4321%"},
        )
    assert "ix_users_name_email_trgm" in plan.indexes_used
    assert plan.rows == 1


def test_pages_are_stable_with_ties(engine: Engine) -> None:
    with engine.begin() as conn:
        seed.seed_users(conn, 200, ties=10)
    ids = []
    with Session(engine) as session:
        for page in range(1, 30):
            ids += [u.id for u in find_many(session, page=page, limit=7).items]
            session.rollback()
    assert len(ids) == len(set(ids)) == 200


def test_order_is_newest_first_then_id(engine: Engine) -> None:
    with engine.begin() as conn:
        seed.seed_users(conn, 30, ties=3)
    with Session(engine) as session:
        items = find_many(session, limit=30).items
    assert [(u.created_at, u.id) for u in items] == sorted(
        ((u.created_at, u.id) for u in items), reverse=True
    )


@pytest.mark.parametrize(("page", "limit"), [(0, 20), (-1, 20), (1, 0), (1, MAX_LIMIT + 1)])
def test_bad_page_or_limit_is_a_value_error(engine: Engine, page: int, limit: int) -> None:
    with Session(engine) as session, pytest.raises(ValueError, match=r"page|limit"):
        find_many(session, page=page, limit=limit)


def test_status_filter(engine: Engine) -> None:
    with engine.begin() as conn:
        seed.seed_users(conn, 20)  # every 10th inactive
    with Session(engine) as session:
        result = find_many(session, status=UserStatus.INACTIVE)
    assert result.total == 2
    assert {u.status for u in result.items} == {UserStatus.INACTIVE}


def test_a_read_committed_transaction_under_way_is_refused(engine: Engine) -> None:
    with Session(engine) as session:
        session.execute(text("SELECT 1"))
        with pytest.raises(RuntimeError, match="one snapshot"):
            find_many(session)


def test_password_hash_is_never_selected(engine: Engine) -> None:
    _add(engine, "Alice")
    with count_statements(engine) as counter, Session(engine) as session:
        result = find_many(session, search="ali")
    assert counter.count == 2
    assert not any("password_hash" in s for s in counter.statements)
    assert not hasattr(result.items[0], "password_hash")


@pytest.fixture
def insert_after_page_query(engine: Engine) -> Iterator[list[str]]:
    """After the first SELECT … LIMIT, commit a new matching user from another connection."""
    fired: list[str] = []

    def hook(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not fired and "LIMIT" in statement:
            fired.append(statement)
            with engine.begin() as other:
                other.execute(
                    text("INSERT INTO users (email, name, password_hash) VALUES (:e, 'Late', 'h')"),
                    {"e": f"late{datetime.now(UTC).timestamp()}@example.com"},
                )

    event.listen(engine, "after_cursor_execute", hook)
    yield fired
    event.remove(engine, "after_cursor_execute", hook)


def test_total_and_page_come_from_one_snapshot(
    engine: Engine, insert_after_page_query: list[str]
) -> None:
    with engine.begin() as conn:
        seed.seed_users(conn, 10)
    with Session(engine) as session:
        result = find_many(session, limit=5)
    assert insert_after_page_query, "the hook should have inserted a row between the queries"
    assert result.total == 10
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM users")).scalar() == 11
