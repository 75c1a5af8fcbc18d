"""Grading for exercise 02.2: migration 0004 adding users.username
(exercises/02_databases/migration_username.py), checked against the catalog of a real database."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

import pytest
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, text
from sqlalchemy.exc import DataError, IntegrityError

from reference.databases import catalog, migrate, seed


@pytest.fixture
def engine(pg_url: str, pg_engine: Engine) -> Engine:
    """A database at revision 0003 holding 50 existing users."""
    migrate.upgrade(pg_url, "0003")
    with pg_engine.begin() as conn:
        seed.seed_users(conn, 50)
    return pg_engine


def run(engine: Engine, step: Callable[[], None]) -> None:
    """Run a migration function with Alembic's ``op`` bound to the database, in one transaction."""
    with engine.begin() as conn, Operations.context(MigrationContext.configure(conn)):
        step()


def upgraded(exercise: ModuleType, engine: Engine) -> Engine:
    """Run the learner's upgrade() inside the test, so a failure there is the test's failure."""
    run(engine, exercise.upgrade)
    return engine


def set_username(engine: Engine, email: str, username: str | None) -> None:
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE users SET username = :u WHERE email = :e"), {"u": username, "e": email}
        )


def test_column_is_a_nullable_varchar_40(exercise: ModuleType, engine: Engine) -> None:
    """Revision "0004" follows "0003". users.username exists as character varying(40), nullable: the 50 users who existed
    before the migration are still there, with username NULL."""
    assert (exercise.revision, exercise.down_revision) == ("0004", "0003")
    up = upgraded(exercise, engine)
    with up.connect() as conn:
        column = catalog.columns(conn, "users").get("username")
        assert column is not None, "users has no username column"
        assert column.data_type == "character varying(40)"
        assert column.nullable, "existing users have no username: the column must allow NULL"
        count = conn.execute(text("SELECT count(*) FROM users WHERE username IS NULL")).scalar()
    assert count == 50


def test_usernames_are_unique_ignoring_case(exercise: ModuleType, engine: Engine) -> None:
    """After 'Bob' is taken, 'bob' and 'BOB' must be refused with an IntegrityError: they would be
    the same profile URL. (A plain UNIQUE on the column compares case-sensitively.) 'Bob' itself is
    a valid username, kept as typed: refusing capitals is not case-insensitive uniqueness."""
    up = upgraded(exercise, engine)
    try:
        set_username(up, "user1@example.com", "Bob")
    except IntegrityError as error:
        pytest.fail(f"'Bob' is a valid username but was refused: {error.orig}")
    for clash in ("bob", "BOB"):
        with pytest.raises(IntegrityError):
            set_username(up, "user2@example.com", clash)


def test_many_users_may_have_no_username(exercise: ModuleType, engine: Engine) -> None:
    """Uniqueness applies to usernames that are set: any number of users may have NULL, and two
    different usernames coexist."""
    up = upgraded(exercise, engine)
    set_username(up, "user1@example.com", "alice")
    set_username(up, "user2@example.com", "bob_2")
    with up.connect() as conn:
        nulls = conn.execute(text("SELECT count(*) FROM users WHERE username IS NULL")).scalar()
    assert nulls == 48


@pytest.mark.parametrize("bad", ["ab", "has space", "dash-ed", "émile", "x" * 41])
def test_format_check_refuses_bad_usernames(exercise: ModuleType, engine: Engine, bad: str) -> None:
    """A username must be 3–40 letters, digits or underscores: 'ab', 'has space', 'dash-ed' and
    'émile' and 41 characters are refused by the database (a CHECK constraint), not only by the API."""
    up = upgraded(exercise, engine)
    with pytest.raises((IntegrityError, DataError)):
        set_username(up, "user1@example.com", bad)


def test_check_constraint_is_named(exercise: ModuleType, engine: Engine) -> None:
    """The CHECK constraint is named ck_users_username_format, so a later migration can drop it."""
    up = upgraded(exercise, engine)
    with up.connect() as conn:
        names = conn.execute(
            text("SELECT conname FROM pg_constraint WHERE conrelid = 'users'::regclass")
        ).scalars()
        assert "ck_users_username_format" in set(names)


def test_lookup_by_lower_username_uses_an_index(exercise: ModuleType, engine: Engine) -> None:
    """WHERE lower(username) = lower(:u) — how a profile URL is resolved — is served by an index."""
    up = upgraded(exercise, engine)
    with up.begin() as conn:
        conn.execute(text("SET LOCAL enable_seqscan = off"))
        plan = conn.execute(
            text("EXPLAIN (FORMAT JSON) SELECT id FROM users WHERE lower(username) = 'bob'")
        ).scalar_one()
    assert "Index Name" in str(plan), "no index serves lower(username) lookups"


def test_no_redundant_index(exercise: ModuleType, engine: Engine) -> None:
    """Exactly one index mentions username, and no index is a left prefix of another: an extra
    plain index next to the unique one doubles the write cost and serves nothing."""
    up = upgraded(exercise, engine)
    with up.connect() as conn:
        redundant = [str(a) for a, _ in catalog.redundant_indexes(conn)]
        on_username = [ix.name for ix in catalog.indexes(conn, "users") if "username" in str(ix)]
    assert redundant == []
    assert len(on_username) == 1, on_username


def test_downgrade_restores_0003(exercise: ModuleType, engine: Engine, pg_url: str) -> None:
    """downgrade() removes the column, its index and its constraint: the schema then matches the
    models exactly again (alembic check is clean), and upgrade() can run a second time."""
    up = upgraded(exercise, engine)
    run(up, exercise.downgrade)
    with up.connect() as conn:
        assert "username" not in catalog.columns(conn, "users")
        assert not [ix for ix in catalog.indexes(conn) if "username" in str(ix)]
    assert migrate.check(pg_url) == []
    run(up, exercise.upgrade)
    with up.connect() as conn:
        assert "username" in catalog.columns(conn, "users")
