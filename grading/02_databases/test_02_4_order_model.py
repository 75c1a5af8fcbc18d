"""Grading for exercise 02.4: the orders model that matches migrations 0001–0003
(exercises/02_databases/order_model.py), compared with a migrated database the way ``alembic check``
does, then built with ``create_all`` and compared catalog to catalog."""

from __future__ import annotations

import random
import re
import uuid
from types import ModuleType
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Connection, Engine, MetaData, Table, delete, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.exc import DBAPIError
from sqlalchemy.types import TypeEngine

from reference.databases import migrate

MODEL_SCHEMA = "model"  # where create_all builds the learner's tables, beside the migrated public


@pytest.fixture
def engine(pg_url: str, pg_engine: Engine) -> Engine:
    """A database migrated to head (public) with an empty schema for create_all (model)."""
    migrate.upgrade(pg_url)
    with pg_engine.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {MODEL_SCHEMA}"))
    return pg_engine


def learner_table(exercise: ModuleType) -> Table:
    """The learner's orders on a fresh MetaData that holds the users table it refers to."""
    metadata = MetaData()
    Table(
        "users",
        metadata,
        Column(
            "id", UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")
        ),
    )
    table = exercise.orders_table(metadata)
    assert isinstance(table, Table), "orders_table must return the Table it defined"
    assert table.name == "orders", f"orders_table returned {table.name!r}, not orders"
    return table


def only_orders(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    return type_ != "table" or name == "orders"


def shown(value: Any) -> str:
    """A compared value as SQL where it has some: a server default's text, a type's name."""
    if value is None:
        return "none"
    if isinstance(value, TypeEngine):  # TIMESTAMP WITH / WITHOUT TIME ZONE, NUMERIC(12, 2) …
        # SQLAlchemy's dialect constructors carry no annotations.
        dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
        return str(value.compile(dialect=dialect))
    arg = getattr(value, "arg", None)  # a DefaultClause wraps the default's SQL text
    return str(getattr(arg, "text", arg) if arg is not None else value)


def describe(diff: Any) -> str:
    """One autogenerate difference in words: database (the migrations) first, then your model."""
    if isinstance(diff, list):  # modify_type / modify_nullable / modify_default of one column
        return "; ".join(
            f"{change[0]} orders.{change[3]}: database {shown(change[5])}, "
            f"your model {shown(change[6])}"
            for change in diff
        )
    operation, subject = diff[0], diff[-1]
    where = {"add": "your model has it, the database does not", "remove": "missing from your model"}
    name = getattr(subject, "name", subject)
    if operation.endswith("_fk"):
        name = f"{name} ON DELETE {subject.ondelete or 'NO ACTION'}"
    return f"{operation} {name} ({where[operation.split('_')[0]]})"


def build_model(table: Table, engine: Engine) -> None:
    """metadata.create_all of the learner's tables, into the model schema."""
    with engine.begin() as conn:
        table.metadata.create_all(conn.execution_options(schema_translate_map={None: MODEL_SCHEMA}))


def strip_schemas(definition: str) -> str:
    return re.sub(rf"\b(public|{MODEL_SCHEMA})\.", "", definition)


def catalog(conn: Connection, schema: str, query: str) -> dict[str, str]:
    rows = conn.execute(text(query), {"table": f"{schema}.orders"})
    return {name: strip_schemas(definition) for name, definition in rows}


INDEXES = """SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i
JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = CAST(:table AS regclass)"""
# Keyed by name: the names are part of the schema (migrations drop and alter constraints by name).
CONSTRAINTS = """SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
WHERE conrelid = CAST(:table AS regclass)"""


def new_user(conn: Connection, schema: str) -> uuid.UUID:
    if schema == MODEL_SCHEMA:  # the grader's own users table: only an id
        grader_user: uuid.UUID = conn.execute(
            text(f"INSERT INTO {schema}.users DEFAULT VALUES RETURNING id")
        ).scalar_one()
        return grader_user
    buyer: uuid.UUID = conn.execute(
        text(
            "INSERT INTO users (email, name, password_hash) VALUES (:e, 'Buyer', 'x') RETURNING id"
        ),
        {"e": f"{uuid.uuid4().hex}@example.test"},
    ).scalar_one()
    return buyer


def test_alembic_check_is_clean(exercise: ModuleType, engine: Engine) -> None:
    """Compared with a database migrated to head (Alembic autogenerate, types and server defaults
    included), your orders table shows no difference. Each line below is one: a type (BIGINT, not
    INTEGER or NUMERIC; timestamp WITH time zone), a nullability, a server default, a foreign key
    or its ON DELETE, or an index missing or named differently."""
    table = learner_table(exercise)
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "compare_server_default": True,
                "include_object": only_orders,
            },
        )
        diffs = compare_metadata(context, table.metadata)
    assert diffs == [], "alembic check finds:\n" + "\n".join(map(describe, diffs))


def test_create_all_builds_the_migrated_indexes(exercise: ModuleType, engine: Engine) -> None:
    """create_all from your model builds the indexes the migrations build, definition for
    definition: ix_orders_user_id_created_at, ix_orders_created_at_id (0003, keyset pages) and the
    partial ix_orders_delivered_created_at WHERE status = 'delivered'. (alembic check cannot see a
    partial index's WHERE; the catalog can.)"""
    table = learner_table(exercise)
    build_model(table, engine)
    with engine.connect() as conn:
        migrated = catalog(conn, "public", INDEXES)
        built = catalog(conn, MODEL_SCHEMA, INDEXES)
    assert built == migrated


def test_create_all_builds_the_migrated_constraints(exercise: ModuleType, engine: Engine) -> None:
    """create_all from your model builds the same constraints: pk_orders, fk_orders_user_id_users
    (to users.id, ON DELETE CASCADE) and the CHECK total_cents >= 0."""
    table = learner_table(exercise)
    build_model(table, engine)
    with engine.connect() as conn:
        migrated = catalog(conn, "public", CONSTRAINTS)
        built = catalog(conn, MODEL_SCHEMA, CONSTRAINTS)
    assert built == migrated


def test_create_all_builds_the_enum_by_value(exercise: ModuleType, engine: Engine) -> None:
    """The order_status type create_all makes from your model has the labels migration 0001 gave
    it, in its order: 'pending', 'paid', … — the values, not the member names 'PENDING', 'PAID'."""
    table = learner_table(exercise)
    build_model(table, engine)
    query = "SELECT CAST(enum_range(NULL::{}.order_status) AS text[])"
    with engine.connect() as conn:
        migrated = conn.execute(text(query.format("public"))).scalar_one()
        built = conn.execute(text(query.format(MODEL_SCHEMA))).scalar_one()
    assert built == migrated


def test_round_trip_on_the_migrated_table(exercise: ModuleType, engine: Engine) -> None:
    """Orders written through your table into the MIGRATED database come back as written: every
    OrderStatus member is stored (by value), totals are exact, and a row given only user_id and
    total_cents gets its defaults from the database (a UUID id, 'pending', aware timestamps)."""
    table = learner_table(exercise)
    rng = random.Random()
    wanted = {str(status): rng.randrange(1, 10**12) for status in exercise.OrderStatus}
    with engine.begin() as conn:
        user = new_user(conn, "public")
        for status in exercise.OrderStatus:
            conn.execute(
                table.insert().values(user_id=user, status=status, total_cents=wanted[str(status)])
            )
        plain_total = rng.randrange(1, 10**12)
        plain = conn.execute(
            table.insert().values(user_id=user, total_cents=plain_total).returning(table)
        ).one()
    assert isinstance(plain.id, uuid.UUID), f"id came back as {type(plain.id).__name__}"
    assert str(plain.status) == "pending"
    assert plain.total_cents == plain_total
    assert plain.created_at.tzinfo is not None, "created_at came back without a time zone"
    with engine.connect() as conn:
        rows = conn.execute(select(table).where(table.c.id != plain.id)).all()
        stored = conn.execute(
            text("SELECT CAST(status AS text), total_cents FROM orders WHERE id <> :id"),
            {"id": plain.id},
        ).all()
    assert {str(row.status): row.total_cents for row in rows} == wanted
    assert dict(stored) == wanted


def test_model_schema_cascades_and_checks(exercise: ModuleType, engine: Engine) -> None:
    """In the schema create_all builds from your model, deleting a user deletes its orders
    (ON DELETE CASCADE), and a negative total or an order for an unknown user is refused."""
    table = learner_table(exercise)
    build_model(table, engine)
    model = engine.execution_options(schema_translate_map={None: MODEL_SCHEMA})
    with model.begin() as conn:
        user = new_user(conn, MODEL_SCHEMA)
        conn.execute(table.insert().values(user_id=user, total_cents=100))
    for bad in ({"user_id": user, "total_cents": -1}, {"user_id": uuid.uuid4(), "total_cents": 1}):
        with pytest.raises(DBAPIError), model.begin() as conn:
            conn.execute(table.insert().values(**bad))
    users = table.metadata.tables["users"]
    with model.begin() as conn:
        conn.execute(delete(users).where(users.c.id == user))
        left = conn.execute(select(table.c.id)).all()
    assert left == [], "the user's orders outlived it: the foreign key needs ON DELETE CASCADE"
