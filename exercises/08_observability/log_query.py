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
    # TODO: a term query on the exact sub-field, sorted by timestamp then event_id.keyword, pages
    # of at most 100 fetched with search_after until a page comes back short.
    raise NotImplementedError
