"""Taught in notebooks/08_observability_logs.ipynb §4.

Exercise 08.2: one request's trace, across services, from OpenSearch.

Every service ships its JSON log lines into one OpenSearch index; each line carries the
``request_id`` the request-id middleware bound (the same id in every service the request crossed),
a ``timestamp`` (ISO 8601, UTC) and the shipper's ``event_id`` (unique per line). Write:

``trace(client, index, request_id)`` — every line whose ``request_id`` is **exactly**
``request_id``, as its ``_source`` dict, oldest first: by ``timestamp``, and lines with an equal
timestamp by ``event_id``. ``[]`` when there is none.

* The index has OpenSearch's *dynamic* mapping (nobody installed a template): every string field is
  ``text`` — analysed into words, so ``3f2a-…`` matches any id sharing a piece — with an exact
  ``keyword`` sub-field (``request_id.keyword``); ``timestamp`` is a ``date`` (milliseconds: lines
  of a fast request share one).
* A trace can be longer than one search may return: ``index.max_result_window`` caps ``from + size``
  (10,000 by default; the grader's index sets 100). Page with ``search_after`` on a sort that is
  unique per line, so no line is lost or repeated where a page ends inside a run of equal timestamps.
* Ask OpenSearch for the trace, not for the index: the grader counts the searches your call makes
  (a search per page of the trace, not per page of every log line).
* A request id is data, not query syntax: ``a OR b``, ``*``, quotes or 10 KB of text find nothing
  (they are no one's id), and never raise.
"""

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
        "query": {"bool": {"filter": [{"term": {"request_id.keyword": request_id}}]}},
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
