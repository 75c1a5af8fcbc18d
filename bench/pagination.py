"""Offset vs keyset pagination latency at depth, on 1,000,000 users.

Run: ``uv run python -m bench.pagination`` (PostgreSQL must be up). Seeds a sandbox database
(``bench_pagination``) with 1M users in one ``INSERT … SELECT generate_series``, then times, in
interleaved rounds so a busy machine slows all alike, the page query of
``reference.databases.pagination`` (20 rows, newest first, ``(created_at, id)`` order):

* **keyset, page 2** — the baseline: ``WHERE (created_at, id) < cursor`` just after the first page;
* **keyset, page 10,000** — the same query with a cursor 199,980 rows deep;
* **offset, page 10,000** — ``LIMIT 20 OFFSET 199980``: reads and discards 199,980 index entries.

Each case is measured twice: the client's round trip (psycopg, prepared statement, rows fetched) and
the server's execution time (``EXPLAIN (ANALYZE, TIMING OFF)``). On a busy machine the sub-millisecond
keyset round trip is dominated by scheduling noise, so the ratios are reported for both; the server
time is the cost of the query itself. The trigram search index is dropped before the bulk load (these
queries do not use it and maintaining a GIN index row by row would dominate the seeding time).

Targets: offset ÷ keyset at page 10,000 ≥ 100×; keyset deep ÷ keyset shallow ≤ 1.5.
Writes the table to ``bench/results/pagination.md``.
"""

from __future__ import annotations

import argparse
import platform
import re
import statistics
import time
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import create_engine, text

from reference.config import to_sqlalchemy_url
from reference.databases import migrate, pagination, seed
from reference.databases.explain import summarise
from reference.sandbox import fresh_postgres_database

RESULTS = Path(__file__).parent / "results" / "pagination.md"
COMMAND = "uv run python -m bench.pagination"
LIMIT = 20
DEEP_PAGE = 10_000


def _psycopg(sql: str) -> str:
    """``:name`` placeholders (SQLAlchemy ``text``) as psycopg's ``%(name)s``."""
    return re.sub(r"(?<!:):(\w+)", r"%(\1)s", sql)


def _client_ms(conn: psycopg.Connection[Any], sql: str, params: dict[str, Any]) -> float:
    start = time.perf_counter()
    rows = conn.execute(sql, params, prepare=True).fetchall()
    elapsed = (time.perf_counter() - start) * 1000
    assert len(rows) == LIMIT
    return elapsed


def _server_ms(conn: psycopg.Connection[Any], sql: str, params: dict[str, Any]) -> float:
    row = conn.execute(
        "EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) " + sql,
        params,
    ).fetchone()
    assert row is not None
    execution = summarise(row[0]).execution_ms
    assert execution is not None
    return execution


def _cursor_at(conn: psycopg.Connection[Any], offset: int) -> dict[str, Any]:
    """Keyset parameters continuing after row ``offset`` (1-based) in page order."""
    row = conn.execute(
        "SELECT created_at, id FROM users ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET %s",
        (offset - 1,),
    ).fetchone()
    assert row is not None
    return {"created_at": row[0], "id": row[1], "limit": LIMIT}


def _median(values: list[float]) -> float:
    return statistics.median(values)


def _met(ok: bool) -> str:
    return "yes" if ok else "no"


def run(rows: int, rounds: int) -> str:
    url = fresh_postgres_database("bench_pagination")
    migrate.upgrade(url)
    engine = create_engine(to_sqlalchemy_url(url))
    with engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_users_name_email_trgm"))
        seed_start = time.perf_counter()
        seed.seed_users(conn, rows)
        seed_seconds = time.perf_counter() - seed_start
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE users"))
    deep_offset = (DEEP_PAGE - 1) * LIMIT
    keyset_sql, offset_sql = _psycopg(pagination.KEYSET_SQL), _psycopg(pagination.OFFSET_SQL)
    names = ("keyset p2", "keyset deep", "offset deep")
    client: dict[str, list[float]] = {name: [] for name in names}
    server: dict[str, list[float]] = {name: [] for name in names}
    with psycopg.connect(url, autocommit=True) as conn:
        shallow = _cursor_at(conn, LIMIT)
        deep = _cursor_at(conn, deep_offset)
        offset_params = {"limit": LIMIT, "offset": deep_offset}
        # Same rows from both methods at depth: the comparison is like for like.
        keyset_ids = [r[0] for r in conn.execute(keyset_sql, deep)]
        offset_ids = [r[0] for r in conn.execute(offset_sql, offset_params)]
        assert keyset_ids == offset_ids
        cases = {
            "keyset p2": (keyset_sql, shallow),
            "keyset deep": (keyset_sql, deep),
            "offset deep": (offset_sql, offset_params),
        }
        for _ in range(3):  # warm the cache and the prepared statements
            for sql, params in cases.values():
                _client_ms(conn, sql, params)
        for _ in range(rounds):
            for name, (sql, params) in cases.items():
                client[name].append(_client_ms(conn, sql, params))
                server[name].append(_server_ms(conn, sql, params))
    engine.dispose()
    c = {name: _median(values) for name, values in client.items()}
    med = {name: _median(values) for name, values in server.items()}
    offset_ratio = med["offset deep"] / med["keyset deep"]
    depth_ratio = med["keyset deep"] / med["keyset p2"]
    client_offset_ratio = c["offset deep"] / c["keyset deep"]
    client_depth_ratio = c["keyset deep"] / c["keyset p2"]
    lines = [
        "# Pagination: offset vs keyset at depth",
        "",
        f"Command: `{COMMAND}` — {rows:,} users (seeded in {seed_seconds:.1f} s with one "
        f"INSERT … SELECT generate_series), {LIMIT} rows a page, median of {rounds} interleaved "
        f"rounds. Machine: {platform.machine()}, Python {platform.python_version()}.",
        "",
        "| query | server ms (median) | client round trip ms (median) |",
        "|---|---:|---:|",
        f"| keyset, page 2 (baseline) | {med['keyset p2']:.3f} | {c['keyset p2']:.3f} |",
        f"| keyset, page {DEEP_PAGE:,} | {med['keyset deep']:.3f} | {c['keyset deep']:.3f} |",
        f"| offset, page {DEEP_PAGE:,} (OFFSET {deep_offset:,}) | {med['offset deep']:.3f} "
        f"| {c['offset deep']:.3f} |",
        "",
        "| ratio | server | client | target | met (server / client) |",
        "|---|---:|---:|---:|:---:|",
        f"| offset ÷ keyset at page {DEEP_PAGE:,} | {offset_ratio:.0f}× | "
        f"{client_offset_ratio:.0f}× | ≥ 100× | {_met(offset_ratio >= 100)} / "
        f"{_met(client_offset_ratio >= 100)} |",
        f"| keyset page {DEEP_PAGE:,} ÷ keyset page 2 | {depth_ratio:.2f} | "
        f"{client_depth_ratio:.2f} | ≤ 1.5 | {_met(depth_ratio <= 1.5)} / "
        f"{_met(client_depth_ratio <= 1.5)} |",
        "",
        "Keyset seeks straight to the cursor in the `(created_at, id)` index, so its cost does not",
        "depend on depth; OFFSET walks and discards every earlier index entry.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    table = run(args.rows, args.rounds)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(table)
    print(table)


if __name__ == "__main__":
    main()
