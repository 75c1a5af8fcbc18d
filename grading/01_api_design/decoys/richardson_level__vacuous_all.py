"""Decoy for 01.1: ``all()`` over the 2xx documents without checking there is one, so a trace with
no 2xx document (only 204s and errors) is "level 3" — caught by "verbs_with_no_documents_at_all".

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
    if len(paths) <= 1:
        return Level.SWAMP_OF_POX
    if len(methods) <= 1:
        return Level.RESOURCES
    if all(
        has_hypermedia(exchange.response)
        for exchange in trace
        if 200 <= exchange.status < 300 and isinstance(exchange.response, dict)
    ):
        return Level.HYPERMEDIA
    return Level.HTTP_VERBS
