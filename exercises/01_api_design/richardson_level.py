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
    # TODO: true when the body is a JSON object whose "links" (or "_links") value is a non-empty
    # object and every entry in it has an "href".
    raise NotImplementedError


def classify(trace: Sequence[Exchange]) -> Level:
    """The Richardson level the trace shows (see the module docstring for the rules)."""
    # TODO: apply the four rules of the module docstring, lowest level first, and return the
    # highest level whose conditions the whole trace meets.
    raise NotImplementedError
