"""The channel a grading subprocess reports its tests through: an inherited file descriptor and a token.

Pattern: an authenticated side channel between a trusted parent and a child that also runs untrusted
code (taught nowhere in the notebooks; it is the instructor's side of ``course grade``).

The runner opens the report file itself, lets the child inherit the descriptor, and tells the child's
report plugin its number and a per-run random token over the child's *stdin*: the environment only
says ``COURSE_REPORT=stdin`` (no path, no number, no secret; the plugin removes even that before any
test runs). The plugin reads the handshake when pytest loads it — before the grading tests are
collected, long before the learner's module is imported — and points stdin at ``/dev/null``, so the
learner's code finds nothing to read there or in ``os.environ`` / ``/proc/self/environ``. Every record
is one line ``<token> <json>``; a line without the token, or that is not a record, is evidence that
something else wrote to the descriptor, and costs that run (and only that run) its points.

What this cannot rule out: code running in the same process can still find the token in the plugin's
memory (``gc``, frame inspection). See the README's grading section.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Final

HANDSHAKE_VARIABLE: Final = "COURSE_REPORT"
HANDSHAKE_VALUE: Final = "stdin"
EVENTS: Final = frozenset({"collected", "collect_error", "start", "result", "tampered", "finished"})


def handshake(fd: int, token: str) -> bytes:
    """The one line the runner writes to the child's stdin."""
    return f"{fd} {token}\n".encode()


def parse_handshake(line: bytes) -> tuple[int, str]:
    """``(fd, token)`` from :func:`handshake`'s line; ValueError for anything else."""
    fd_text, token = line.decode().split()
    return int(fd_text), token


def encode(token: str, record: dict[str, Any]) -> bytes:
    return f"{token} {json.dumps(record)}\n".encode()


@dataclass
class Decoded:
    """The records the plugin wrote, and one line per line it did not write."""

    records: list[dict[str, Any]] = field(default_factory=list)
    forged: list[str] = field(default_factory=list)


def decode(data: bytes, token: str) -> Decoded:
    """Split a report into the plugin's records and lines something else wrote (never raises)."""
    decoded = Decoded()
    for number, raw in enumerate(data.splitlines(), start=1):
        line = raw.decode(errors="replace")
        head, _, body = line.partition(" ")
        if head != token:
            decoded.forged.append(f"line {number} does not carry the run's token: {line[:80]!r}")
            continue
        try:
            record = json.loads(body)
        except ValueError:
            decoded.forged.append(f"line {number} is not JSON: {body[:80]!r}")
            continue
        if not isinstance(record, dict) or record.get("event") not in EVENTS:
            decoded.forged.append(f"line {number} is not a report record: {body[:80]!r}")
            continue
        decoded.records.append(record)
    return decoded


def read_fd_handshake() -> tuple[int, str] | None:
    """In the child: read the handshake from stdin if the runner announced one, then make sure
    nothing else can (stdin becomes /dev/null, the announcement leaves the environment)."""
    if os.environ.pop(HANDSHAKE_VARIABLE, None) != HANDSHAKE_VALUE:
        return None
    line = b""
    while not line.endswith(b"\n"):
        chunk = os.read(0, 256)
        if not chunk:
            break
        line += chunk
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    return parse_handshake(line)
