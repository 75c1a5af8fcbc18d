"""Catalog facts about a PostgreSQL schema: indexes, redundant indexes, columns and enum values.

The pattern: check a schema by asking PostgreSQL's catalog (``pg_index``, ``information_schema``,
``enum_range``), not by reading the migration. The guide's migration added an index the UNIQUE
constraint already provides and one that is a left prefix of a composite index;
:func:`redundant_indexes`
finds both. Used by the tests, the grading of exercise 02.2 and
``notebooks/02_databases_postgres.ipynb``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, text

_INDEXES_SQL = text(
    """
    SELECT ic.relname AS name,
           c.relname AS table_name,
           am.amname AS method,
           i.indisunique AS is_unique,
           i.indisprimary AS is_primary,
           pg_get_expr(i.indpred, i.indrelid) AS predicate,
           ARRAY(
               SELECT pg_get_indexdef(i.indexrelid, k, true)
                      || CASE WHEN (i.indoption[k - 1] & 1) = 1 THEN ' DESC' ELSE '' END
               FROM generate_series(1, i.indnkeyatts) AS k
               ORDER BY k
           ) AS keys
    FROM pg_index i
    JOIN pg_class c ON c.oid = i.indrelid
    JOIN pg_class ic ON ic.oid = i.indexrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_am am ON am.oid = ic.relam
    WHERE n.nspname = current_schema()
    ORDER BY c.relname, ic.relname
    """
)


@dataclass(frozen=True)
class IndexInfo:
    """One index as the catalog sees it; ``keys`` are column names or expressions, ``DESC``
    marked."""

    name: str
    table: str
    method: str
    keys: tuple[str, ...]
    unique: bool
    primary: bool
    predicate: str | None

    def __str__(self) -> str:
        where = f" WHERE {self.predicate}" if self.predicate else ""
        kind = "UNIQUE " if self.unique else ""
        return (
            f"{kind}{self.name} ON {self.table} USING {self.method} ({', '.join(self.keys)}){where}"
        )


def indexes(conn: Connection, table: str | None = None) -> list[IndexInfo]:
    """Every index in the current schema (or on ``table``), sorted by table then name."""
    found = [
        IndexInfo(
            name=row.name,
            table=row.table_name,
            method=row.method,
            keys=tuple(row.keys),
            unique=row.is_unique,
            primary=row.is_primary,
            predicate=row.predicate,
        )
        for row in conn.execute(_INDEXES_SQL)
    ]
    return [ix for ix in found if table is None or ix.table == table]


def _covers(longer: IndexInfo, shorter: IndexInfo) -> bool:
    """True when ``shorter`` adds nothing: ``longer`` serves every lookup and constraint it does."""
    if shorter.name == longer.name or shorter.table != longer.table:
        return False
    if shorter.method != longer.method or shorter.predicate != longer.predicate:
        return False
    if longer.keys[: len(shorter.keys)] != shorter.keys:
        return False
    if shorter.unique:
        # A unique index enforces a constraint: only an identical unique index makes it redundant.
        return longer.unique and longer.keys == shorter.keys and not shorter.primary
    return True


def redundant_indexes(
    conn: Connection, table: str | None = None
) -> list[tuple[IndexInfo, IndexInfo]]:
    """Pairs ``(redundant, covered_by)``: an index whose keys are a left prefix of another's.

    Same table, same access method and same partial predicate; a unique index counts as redundant
    only next to an identical unique index (it enforces a constraint the longer one does not).
    """
    all_indexes = indexes(conn, table)
    pairs: list[tuple[IndexInfo, IndexInfo]] = []
    for shorter in all_indexes:
        for longer in all_indexes:
            if _covers(longer, shorter) and not (
                # Two identical indexes cover each other: report the pair once.
                longer.keys == shorter.keys
                and longer.unique == shorter.unique
                and longer.name < shorter.name
                and not longer.primary
            ):
                pairs.append((shorter, longer))
                break
    return pairs


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    data_type: str
    nullable: bool
    default: str | None


def columns(conn: Connection, table: str) -> dict[str, ColumnInfo]:
    """The table's columns by name (type as ``information_schema`` spells it, enums by name)."""
    rows = conn.execute(
        text(
            """
            SELECT column_name, nullable, data_type, column_default FROM (
                SELECT column_name, is_nullable = 'YES' AS nullable, ordinal_position,
                       CASE WHEN data_type = 'USER-DEFINED' THEN udt_name
                            WHEN character_maximum_length IS NOT NULL
                            THEN data_type || '(' || character_maximum_length || ')'
                            ELSE data_type END AS data_type,
                       column_default
                FROM information_schema.columns
                WHERE table_schema = current_schema() AND table_name = :table
            ) c ORDER BY ordinal_position
            """
        ),
        {"table": table},
    )
    return {
        row.column_name: ColumnInfo(
            row.column_name, row.data_type, row.nullable, row.column_default
        )
        for row in rows
    }


def enum_values(conn: Connection, type_name: str) -> list[str]:
    """The labels of enum type ``type_name`` in declaration order (``enum_range(NULL::type)``)."""
    labels = conn.execute(
        text(
            "SELECT e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid "
            "WHERE t.typname = :name ORDER BY e.enumsortorder"
        ),
        {"name": type_name},
    ).scalars()
    return list(labels)


def triggers(conn: Connection, table: str) -> list[str]:
    """Names of the user-defined triggers on ``table``."""
    return list(
        conn.execute(
            text(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = to_regclass(:table) "
                "AND NOT tgisinternal ORDER BY tgname"
            ),
            {"table": table},
        ).scalars()
    )


def extensions(conn: Connection) -> list[str]:
    """Installed extensions other than plpgsql."""
    return list(
        conn.execute(
            text("SELECT extname FROM pg_extension WHERE extname <> 'plpgsql' ORDER BY extname")
        ).scalars()
    )
