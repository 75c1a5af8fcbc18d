"""``EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)`` as a small, comparable plan summary.

The pattern: read plans as data, not text. :func:`explain` runs the query under EXPLAIN and returns
a
:class:`PlanSummary` — node types in plan order, rows, loops, timings and buffers — so a test can
assert
"Index Scan, no Sort node" and a notebook can print it deterministically (node types are stable,
timings are not). ``EXPLAIN ANALYZE`` *executes* the statement — the guide ran it without a word of
warning — so :func:`explain` refuses to analyze a statement that writes, and :func:`explain_dml`
runs one
inside a savepoint it always rolls back. Taught in ``notebooks/02_databases_postgres.ipynb``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text


class UnsafeExplainError(ValueError):
    """``EXPLAIN ANALYZE`` of a statement that modifies data, outside a rolled-back transaction."""


@dataclass(frozen=True)
class PlanNode:
    """One plan node; ``actual_*`` are ``None`` without ANALYZE."""

    node_type: str
    depth: int
    relation: str | None
    index: str | None
    plan_rows: float
    actual_rows: float | None
    loops: int | None

    @property
    def rows_processed(self) -> float:
        """Rows this node produced over all its loops (``actual rows × loops``)."""
        return (self.actual_rows or 0.0) * (self.loops or 0)


@dataclass(frozen=True)
class PlanSummary:
    nodes: tuple[PlanNode, ...]
    planning_ms: float | None
    execution_ms: float | None
    shared_hit_blocks: int
    shared_read_blocks: int
    analyzed: bool

    @property
    def node_types(self) -> tuple[str, ...]:
        """Node types in plan order (root first, depth first)."""
        return tuple(node.node_type for node in self.nodes)

    def has(self, node_type: str) -> bool:
        return node_type in self.node_types

    @property
    def rows(self) -> float | None:
        """Rows the whole query returned (the root node's actual rows)."""
        return self.nodes[0].actual_rows

    @property
    def rows_processed(self) -> float:
        """Rows produced by every node summed — a rough, timing-free measure of work done."""
        return sum(node.rows_processed for node in self.nodes)

    @property
    def indexes_used(self) -> tuple[str, ...]:
        return tuple(node.index for node in self.nodes if node.index)

    def outline(self) -> str:
        """The plan as an indented list of node types, relations and indexes — no numbers."""
        lines = []
        for node in self.nodes:
            line = "  " * node.depth + node.node_type
            if node.relation:
                line += f" on {node.relation}"
            if node.index:
                line += f" using {node.index}"
            lines.append(line)
        return "\n".join(lines)


def _walk(plan: Mapping[str, Any], depth: int = 0) -> Iterator[PlanNode]:
    yield PlanNode(
        node_type=plan["Node Type"],
        depth=depth,
        relation=plan.get("Relation Name"),
        index=plan.get("Index Name"),
        plan_rows=float(plan["Plan Rows"]),
        actual_rows=plan.get("Actual Rows"),
        loops=plan.get("Actual Loops"),
    )
    for child in plan.get("Plans", ()):
        yield from _walk(child, depth + 1)


def summarise(explain_json: Any) -> PlanSummary:
    """Turn the output of ``EXPLAIN (FORMAT JSON)`` (a string or the parsed list) into a summary."""
    document = json.loads(explain_json) if isinstance(explain_json, str) else explain_json
    top = document[0]
    root = top["Plan"]
    return PlanSummary(
        nodes=tuple(_walk(root)),
        planning_ms=top.get("Planning Time"),
        execution_ms=top.get("Execution Time"),
        shared_hit_blocks=int(root.get("Shared Hit Blocks", 0)),
        shared_read_blocks=int(root.get("Shared Read Blocks", 0)),
        analyzed="Execution Time" in top,
    )


def _run(
    conn: Connection, query: str, params: Mapping[str, Any] | None, analyze: bool
) -> PlanSummary:
    options = "ANALYZE, BUFFERS, FORMAT JSON" if analyze else "FORMAT JSON"
    result = conn.execute(text(f"EXPLAIN ({options}) {query}"), dict(params or {})).scalar_one()
    return summarise(result)


def explain(
    conn: Connection,
    query: str,
    params: Mapping[str, Any] | None = None,
    *,
    analyze: bool = True,
) -> PlanSummary:
    """Plan (and by default run) ``query``; refuse ``analyze`` on a statement that writes.

    The statement is planned first without executing it; a ``ModifyTable`` node (INSERT, UPDATE,
    DELETE, MERGE — also inside a CTE) with ``analyze=True`` raises :class:`UnsafeExplainError`.
    """
    plan = _run(conn, query, params, analyze=False)
    if not analyze:
        return plan
    if plan.has("ModifyTable"):
        raise UnsafeExplainError(
            "EXPLAIN ANALYZE executes the statement and this one modifies data; "
            "use explain_dml(), which runs it in a savepoint and rolls it back"
        )
    return _run(conn, query, params, analyze=True)


def explain_dml(
    conn: Connection, query: str, params: Mapping[str, Any] | None = None
) -> PlanSummary:
    """``EXPLAIN ANALYZE`` a writing statement inside a savepoint that is always rolled back."""
    savepoint = conn.begin_nested()
    try:
        return _run(conn, query, params, analyze=True)
    finally:
        savepoint.rollback()
