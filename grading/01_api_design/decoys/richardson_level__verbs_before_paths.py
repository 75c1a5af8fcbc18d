"""Decoy for 01.1: looks at the verbs before the paths, so several verbs on ONE path count as
level 2 — caught by the trace "verbs_on_one_path" (one path is level 0 whatever the verb).

Caught by test_classifies_each_trace.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from reference.api_design.richardson import Exchange, Level


def has_hypermedia(body: Any) -> bool:
    if not isinstance(body, dict):
        return False
    links = body.get("links", body.get("_links"))
    return (
        isinstance(links, dict)
        and bool(links)
        and all(isinstance(link, dict) and "href" in link for link in links.values())
    )


def classify(trace: Sequence[Exchange]) -> Level:
    paths = {urlsplit(exchange.path).path for exchange in trace}
    methods = {exchange.method.upper() for exchange in trace}
    if len(methods) > 1:
        documents = [
            exchange.response
            for exchange in trace
            if 200 <= exchange.status < 300 and isinstance(exchange.response, dict)
        ]
        if documents and all(has_hypermedia(document) for document in documents):
            return Level.HYPERMEDIA
        return Level.HTTP_VERBS
    if len(paths) > 1:
        return Level.RESOURCES
    return Level.SWAMP_OF_POX
