"""Decoy for 08.2: one search with OpenSearch's default size — the first 10 lines of the trace. Caught by test_the_whole_long_trace_in_order."""

from __future__ import annotations

from typing import Any

from opensearchpy import OpenSearch

__all__ = ["trace"]


def trace(client: OpenSearch, index: str, request_id: str) -> list[dict[str, Any]]:
    """One request's log lines, from every service, oldest first."""
    query: dict[str, Any] = {
        # term on the keyword sub-field: the exact id, never its analysed pieces
        "query": {"bool": {"filter": [{"term": {"request_id.keyword": request_id}}]}},
        # event_id makes the sort unique, so search_after never skips a line sharing a timestamp
        "sort": [{"timestamp": "asc"}, {"event_id.keyword": "asc"}],
        "track_total_hits": False,
    }
    return [hit["_source"] for hit in client.search(index=index, body=query)["hits"]["hits"]]
