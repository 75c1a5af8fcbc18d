"""Taught in notebooks/01_api_design_rest.ipynb §1.

Exercise 01.1 — name the Richardson maturity level of an API from a trace of its traffic.

A trace is what a client saw: a list of :class:`Exchange` (method, path, status, decoded JSON body).
Classify it by these rules — each level needs everything the level below needs:

* **Level 0** (the swamp of POX): every exchange goes to ONE path (ignore the query string) —
  HTTP is only a tunnel, whatever the verb.
* **Level 1** (resources): several paths, but only ONE HTTP method across the whole trace — the
  operation travels in the body or the path, not in the verb.
* **Level 2** (HTTP verbs): several paths AND several methods.
* **Level 3** (hypermedia): level 2, AND every 2xx response that has a JSON object body carries a
  ``links`` (or ``_links``) object whose entries each have an ``href`` — every one, not some — and
  there is at least one such response (a trace without a 2xx document shows no hypermedia).

Links on a level-1 API do not make it level 3: the levels are cumulative.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit  # noqa: F401, RUF100 - for your solution

from reference.api_design.richardson import Exchange, Level


def has_hypermedia(body: Any) -> bool:
    """Whether a response body carries a ``links``/``_links`` object of ``{"href": …}`` entries."""
    if not isinstance(body, dict):
        return False
    links = body.get("links", body.get("_links"))
    return (
        isinstance(links, dict)
        and bool(links)
        and all(isinstance(link, dict) and "href" in link for link in links.values())
    )


def classify(trace: Sequence[Exchange]) -> Level:
    """The Richardson level the trace shows (see the module docstring for the rules)."""
    paths = {urlsplit(exchange.path).path for exchange in trace}
    methods = {exchange.method.upper() for exchange in trace}
    if len(paths) <= 1:
        return Level.SWAMP_OF_POX
    if len(methods) <= 1:
        return Level.RESOURCES
    documents = [
        exchange.response
        for exchange in trace
        if 200 <= exchange.status < 300 and isinstance(exchange.response, dict)
    ]
    if documents and all(has_hypermedia(document) for document in documents):
        return Level.HYPERMEDIA
    return Level.HTTP_VERBS
