"""Decoy for 08.2: the right lines through a scroll, in whatever order the index holds them — not oldest first. Caught by test_the_whole_long_trace_in_order."""

from __future__ import annotations

from typing import Any

from opensearchpy import OpenSearch, helpers

__all__ = ["trace"]


def trace(client: OpenSearch, index: str, request_id: str) -> list[dict[str, Any]]:
    """One request's log lines, from every service, oldest first."""
    query = {"query": {"term": {"request_id.keyword": request_id}}}
    return [hit["_source"] for hit in helpers.scan(client, index=index, size=100, query=query)]
