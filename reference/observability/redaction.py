"""Redaction: a structlog processor that masks secrets and bounds what a log event can hold — the
guide's Rule 6 (민감 정보 마스킹), which its own Winston logger breaks (guide-defects.md §8.1).
Taught in ``notebooks/08_observability_logs.ipynb`` (exercise 08.1 writes its own).

What is masked, wherever it sits in nested dicts, lists and tuples:

- the value of any key whose name, lower-cased with ``-``/``_``/spaces removed, contains one of
  :data:`SENSITIVE_KEY_PARTS` (``Password``, ``user_password``, ``X-Api-Key``, ``refresh_token``,
  ``Set-Cookie`` …) — the whole value, even a dict or list, becomes ``[REDACTED]``; the key stays so
  the reader sees that something was there;
- ``Bearer …`` / ``Basic …`` credentials anywhere inside a string (a logged header, a URL, a message);
- card-like numbers: 13–19 digits (spaces/dashes allowed) starting with 2–6 (the card networks' ranges)
  that pass the Luhn check, standing alone (not inside a UUID or ``ref-…``). An order id, a timestamp
  in milliseconds, a phone number or a request id survives: over-redacting makes logs useless.

Hostile input cannot blow the pipeline up: the walk builds a new structure (the caller's dict is never
changed) bounded by depth, items per container, characters per string and total nodes; non-string keys
become strings; NUL characters, non-finite floats and ints too large to print safely are replaced;
cycles end at the depth bound. What is cut is marked, never silently dropped.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any, Final

REDACTED: Final = "[REDACTED]"
SENSITIVE_KEY_PARTS: Final = (
    "password",
    "passwd",
    "secret",
    "token",  # access_token, refresh_token, id_token, csrf_token …
    "authorization",
    "apikey",
    "cookie",
    "privatekey",
    "credential",
)
_KEY_NOISE = re.compile(r"[-_\s.]")
# A credential is 8+ token characters with a digit or symbol in it: "Bearer eyJ…", "Basic dXNlcjpw…",
# but not the English of "a bearer of bad news" or "basic checks".
_CREDENTIAL = re.compile(
    r"(?i)\b(bearer|basic)\s+(?=[A-Za-z0-9._~+/=-]{8})(?=[A-Za-z]*[0-9._~+/=-])[A-Za-z0-9._~+/=-]+"
)
# Bounded repetition: linear on any input, no catastrophic backtracking.
# Not inside a longer word: a UUID's groups (79ca4382-1381-4047-8e26-…) hold Luhn-valid runs too.
_CARD_LIKE = re.compile(r"(?<![\w-])[2-6](?:[ -]?\d){12,18}(?![\w-])")
_INT_LIMIT: Final = 2**63


def is_sensitive_key(key: str) -> bool:
    normal = _KEY_NOISE.sub("", key.lower())
    return any(part in normal for part in SENSITIVE_KEY_PARTS)


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _mask_card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group())
    return REDACTED if luhn_valid(digits) else match.group()


def redact_text(text: str) -> str:
    text = _CREDENTIAL.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    return _CARD_LIKE.sub(_mask_card, text)


@dataclass(frozen=True)
class Limits:
    max_depth: int = 8
    max_items: int = 100  # per dict/list
    max_chars: int = 8192  # per string
    max_nodes: int = 2000  # per event


DEFAULT_LIMITS: Final = Limits()


class _Walk:
    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.nodes = 0

    def value(self, value: Any, depth: int) -> Any:
        self.nodes += 1
        if self.nodes > self.limits.max_nodes:
            return "[TRUNCATED: too many values]"
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, int):
            if abs(value) >= _INT_LIMIT:  # str() of a huge int is slow, JSON of one may raise
                return f"[TRUNCATED: {value.bit_length()}-bit integer]"
            return (
                REDACTED if _CARD_LIKE.fullmatch(str(value)) and luhn_valid(str(value)) else value
            )
        if isinstance(value, float):
            return value if math.isfinite(value) else str(value)  # NaN/Infinity are not JSON
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return self.mapping(value, depth)
        if isinstance(value, list | tuple | set | frozenset):
            return self.sequence(value, depth)
        if isinstance(value, bytes | bytearray):
            return self.text(bytes(value[: self.limits.max_chars]).decode("utf-8", "replace"))
        return self.text(_safe_str(value, self.limits.max_chars))

    def text(self, text: str) -> str:
        limit = self.limits.max_chars
        # Scan a little past the cut so a secret straddling it is masked, not half-kept.
        head = redact_text(text[: limit + 64].replace("\x00", "\ufffd"))
        if len(text) <= limit and len(head) <= limit:
            return head
        return f"{head[:limit]}…[TRUNCATED: {len(text)} chars]"

    def mapping(self, mapping: Mapping[Any, Any], depth: int) -> Any:
        if depth >= self.limits.max_depth:
            return "[TRUNCATED: too deep]"
        out: dict[str, Any] = {}
        for index, (key, value) in enumerate(mapping.items()):
            if index >= self.limits.max_items:
                out["[TRUNCATED]"] = f"{len(mapping) - index} more keys"
                break
            name = key if isinstance(key, str) else _safe_str(key, 200)
            name = self.text(name[:200])
            out[name] = REDACTED if is_sensitive_key(name) else self.value(value, depth + 1)
        return out

    def sequence(self, items: Any, depth: int) -> Any:
        if depth >= self.limits.max_depth:
            return "[TRUNCATED: too deep]"
        out: list[Any] = []
        for index, item in enumerate(items):
            if index >= self.limits.max_items:
                out.append(f"[TRUNCATED: {len(items) - index} more items]")
                break
            out.append(self.value(item, depth + 1))
        return out


def _safe_str(value: object, limit: int) -> str:
    try:
        return str(value)[: limit + 64]
    except Exception as error:  # noqa: BLE001 - a hostile __str__ must not take the log line with it
        return f"<unprintable {type(value).__name__}: {type(error).__name__}>"


def redact(value: Any, limits: Limits = DEFAULT_LIMITS) -> Any:
    """A masked, bounded copy of ``value``."""
    return _Walk(limits).value(value, 0)


KEEP_FIRST: Final = (
    "timestamp",
    "level",
    "service",
    "event",
    "request_id",
    "correlation_id",
    "trace_id",
    "span_id",
    "audit",
    "exception",
)


class Redactor:
    """The structlog processor: returns a new, masked and bounded event dict. The fields in
    ``keep_first`` are walked first, so an event with thousands of fields is cut after them."""

    def __init__(self, limits: Limits = DEFAULT_LIMITS, keep_first: tuple[str, ...] = KEEP_FIRST):
        self.limits, self.keep_first = limits, keep_first

    def __call__(
        self, logger: object, method_name: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        ordered = {key: event_dict[key] for key in self.keep_first if key in event_dict}
        masked = _Walk(self.limits).mapping(ordered | dict(event_dict), 0)
        assert isinstance(masked, dict)  # depth 0 is never "too deep"
        return masked
