"""Decoy for 08.2: builds a query_string from the id — the id is parsed as Lucene syntax: '*' or 'a OR b' match other requests, '(' raises. Caught by test_a_request_id_is_data_not_syntax."""

from __future__ import annotations

from typing import Any

from opensearchpy import OpenSearch

__all__ = ["trace"]


def trace(client: OpenSearch, index: str, request_id: str) -> list[dict[str, Any]]:
    """One request's log lines, from every service, oldest first."""
    page_size = 100  # within the grader's max_result_window; a real store allows up to 10,000
    query: dict[str, Any] = {
        "size": page_size,
        # term on the keyword sub-field: the exact id, never its analysed pieces
        "query": {
            "bool": {"filter": [{"query_string": {"query": f"request_id.keyword:{request_id}"}}]}
        },
        # event_id makes the sort unique, so search_after never skips a line sharing a timestamp
        "sort": [{"timestamp": "asc"}, {"event_id.keyword": "asc"}],
        "track_total_hits": False,
    }
    found: list[dict[str, Any]] = []
    while True:
        page = client.search(index=index, body=query)["hits"]["hits"]
        found += [hit["_source"] for hit in page]
        if len(page) < page_size:
            return found
        query["search_after"] = page[-1]["sort"]
