"""Decoy for 01.1: the guide's table read literally — "Level 2 uses GET/POST/PUT/DELETE, Level 3
has links" — so a GET-only tunnel counts as level 2 and any links count as level 3.

Caught by test_classifies_each_trace.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reference.api_design.richardson import Exchange, Level


def has_hypermedia(body: Any) -> bool:
    return isinstance(body, dict) and ("links" in body or "_links" in body)


def classify(trace: Sequence[Exchange]) -> Level:
    if any(has_hypermedia(exchange.response) for exchange in trace):
        return Level.HYPERMEDIA
    if any(exchange.method in ("GET", "PUT", "DELETE") for exchange in trace):
        return Level.HTTP_VERBS
    if len({exchange.path for exchange in trace}) > 1:
        return Level.RESOURCES
    return Level.SWAMP_OF_POX
