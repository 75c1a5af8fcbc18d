"""Decoy for 08.2: walks every line of the index (scan) and keeps the request's in Python — the right answer, fetched at the cost of the whole index. Caught by test_only_the_trace_is_fetched."""

from __future__ import annotations

from typing import Any

from opensearchpy import OpenSearch, helpers

__all__ = ["trace"]


def trace(client: OpenSearch, index: str, request_id: str) -> list[dict[str, Any]]:
    """One request's log lines, from every service, oldest first."""
    lines = [
        hit["_source"]
        for hit in helpers.scan(client, index=index, size=100, query={"query": {"match_all": {}}})
        if hit["_source"].get("request_id") == request_id
    ]
    return sorted(lines, key=lambda line: (line["timestamp"][:23], line["event_id"]))
