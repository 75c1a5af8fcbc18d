"""The log store: an OpenSearch index template for the chapter's log fields and the queries a person
on call runs — one request's whole trace across services, and log volume per level/service. The
guide's ELK compose file has neither (guide-defects.md §8.3). Taught in
``notebooks/08_observability_logs.ipynb``; exercise 08.2 writes its own trace query.

The mapping is explicit and closed (``dynamic: false``): ``request_id``, ``trace_id``, ``service``,
``level`` … are ``keyword`` — matched exactly, so an id never matches another id that shares a few
of its hyphen-separated pieces, as OpenSearch's default ``text`` mapping would let it; ``timestamp``
is ``date_nanos`` (the logger writes microseconds; ``date`` would keep milliseconds and shuffle a
request's fast lines). Fields outside the mapping stay in ``_source`` — returned, not searchable —
so a hostile or careless field name cannot explode the mapping.

:func:`trace` pages with ``search_after`` (sorted by ``timestamp`` then the shipper's time-ordered
``event_id``), so a trace longer than a page — or than OpenSearch's 10,000 ``from+size`` window — comes
back whole and in order, in one query per page.
"""

from __future__ import annotations

from typing import Any, Final

from opensearchpy import OpenSearch

_KEYWORD: Final = {"type": "keyword", "ignore_above": 256}
MAPPINGS: Final[dict[str, Any]] = {
    "dynamic": False,
    "properties": {
        "timestamp": {"type": "date_nanos"},
        "level": _KEYWORD,
        "service": _KEYWORD,
        "event": {"type": "text", "fields": {"keyword": _KEYWORD}},
        "event_id": _KEYWORD,
        "request_id": _KEYWORD,
        "correlation_id": _KEYWORD,
        "trace_id": _KEYWORD,
        "span_id": _KEYWORD,
        "audit": {"type": "boolean"},
        "actor": _KEYWORD,
        "resource": _KEYWORD,
        "method": _KEYWORD,
        "path": {"type": "keyword", "ignore_above": 1024},
        "status": {"type": "integer", "ignore_malformed": True},
        "duration_ms": {"type": "float", "ignore_malformed": True},
        "exception": {
            "properties": {
                "type": _KEYWORD,
                "code": _KEYWORD,
                "message": {"type": "text"},
            }
        },
    },
}
SETTINGS: Final = {"number_of_shards": 1, "number_of_replicas": 0}


def install_template(client: OpenSearch, name: str, index_pattern: str) -> None:
    """Every index matching ``index_pattern`` created from now on gets the log mapping."""
    client.indices.put_index_template(
        name=name,
        body={
            "index_patterns": [index_pattern],
            "template": {"settings": SETTINGS, "mappings": MAPPINGS},
        },
    )


def create_index(client: OpenSearch, index: str) -> None:
    """One index with the log mapping (what the template gives every matching index)."""
    client.indices.create(index=index, body={"settings": SETTINGS, "mappings": MAPPINGS})


def trace(
    client: OpenSearch, index: str, request_id: str, *, page_size: int = 1000
) -> list[dict[str, Any]]:
    """Every line of one request, from every service, oldest first."""
    lines: list[dict[str, Any]] = []
    body: dict[str, Any] = {
        "size": page_size,
        "query": {"term": {"request_id": request_id}},
        "sort": [{"timestamp": "asc"}, {"event_id": "asc"}],
        "track_total_hits": False,
    }
    while True:
        hits = client.search(index=index, body=body)["hits"]["hits"]
        lines.extend(hit["_source"] for hit in hits)
        if len(hits) < page_size:
            return lines
        body["search_after"] = hits[-1]["sort"]


def volume(
    client: OpenSearch, index: str, *, by: str = "level", interval: str = "1s"
) -> dict[str, list[tuple[str, int]]]:
    """Lines per ``interval`` for each value of ``by`` (``level`` or ``service``): a histogram
    OpenSearch computes, not one built from fetched documents."""
    body = {
        "size": 0,
        "aggs": {
            "by": {
                "terms": {"field": by, "size": 50},
                "aggs": {
                    "over_time": {
                        "date_histogram": {"field": "timestamp", "fixed_interval": interval}
                    }
                },
            }
        },
    }
    buckets = client.search(index=index, body=body)["aggregations"]["by"]["buckets"]
    return {
        bucket["key"]: [
            (point["key_as_string"], point["doc_count"]) for point in bucket["over_time"]["buckets"]
        ]
        for bucket in buckets
    }
