"""Strong ETags and the conditional-request headers that use them (RFC 9110 §8.8.3, §13).

The pattern: a user's ETag is ``"<row version>-<body digest>"``. The row version is PostgreSQL's
``xmin`` (the id of the transaction that last wrote the row — it changes on *every* write, even one
that bypasses the app), so a write can be made conditional *inside* the ``UPDATE``'s ``WHERE``
clause: compare-and-set in one statement, no lost update between the check and the write. The digest
of the exact bytes sent makes the validator strong even though two callers see different links.
``If-None-Match`` → 304 on GET; ``If-Match`` → 412 on a mismatch and, on PUT/PATCH, 428 when absent
(a client that never sends it is the lost-update bug the guide shipped). Taught in
``notebooks/01_api_design_rest.ipynb``.
"""

from __future__ import annotations

import hashlib
import re

_TAG = re.compile(r'\s*(W/)?"([^"]*)"\s*(?:,|$)')


def make_etag(row_version: int, body: bytes) -> str:
    """The strong ETag of one representation."""
    digest = hashlib.sha256(body).hexdigest()[:16]
    return f'"{row_version}-{digest}"'


def row_version(etag: str) -> int | None:
    """The row version inside one of our ETags (``None`` if it is not one)."""
    match = re.fullmatch(r'"(\d+)-[0-9a-f]{16}"', etag)
    return int(match.group(1)) if match else None


def parse_tags(header: str) -> list[tuple[bool, str]] | None:
    """``If-Match``/``If-None-Match`` as ``[(weak, opaque-tag), …]``; ``None`` means ``*``."""
    if header.strip() == "*":
        return None
    tags: list[tuple[bool, str]] = []
    position = 0
    while position < len(header):
        match = _TAG.match(header, position)
        if match is None:
            break
        tags.append((match.group(1) is not None, f'"{match.group(2)}"'))
        position = match.end()
    return tags


def if_match_passes(header: str, current: str) -> bool:
    """``If-Match`` uses the *strong* comparison: weak tags never match."""
    tags = parse_tags(header)
    if tags is None:
        return True
    return any(not weak and tag == current for weak, tag in tags)


def if_none_match_hits(header: str, current: str) -> bool:
    """``If-None-Match`` uses the *weak* comparison: ``W/"x"`` matches ``"x"``."""
    tags = parse_tags(header)
    if tags is None:
        return True
    return any(tag == current for _, tag in tags)
