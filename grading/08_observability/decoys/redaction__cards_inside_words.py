"""Decoy for 08.1: card numbers found by digits alone — a Luhn-valid run inside a UUID (79ca4382-1381-4047-8…) is masked, and request ids become unsearchable. Caught by test_ids_with_digit_runs_survive."""

from __future__ import annotations

import re
from collections.abc import MutableMapping
from typing import Any, Final

from reference.observability.redaction import luhn_valid

__all__ = [
    "MAX_DEPTH",
    "REDACTED",
    "SENSITIVE",
    "TRUNCATED",
    "luhn_valid",
    "mask_text",
    "redact_secrets",
    "sensitive_key",
]

REDACTED: Final = "[REDACTED]"
TRUNCATED: Final = "[TRUNCATED]"
MAX_DEPTH: Final = 8
SENSITIVE: Final = ("password", "passwd", "secret", "token", "authorization", "apikey", "cookie")


def sensitive_key(name: str) -> bool:
    """True when the key ``name`` names a secret."""
    squashed = name.lower().replace("-", "").replace("_", "")
    return any(word in squashed for word in SENSITIVE)


def mask_text(text: str) -> str:
    """``text`` with every ``Bearer`` credential and every card number masked."""

    def card(match: re.Match[str]) -> str:
        digits = match.group().replace(" ", "").replace("-", "")
        return REDACTED if luhn_valid(digits) else match.group()

    text = re.sub(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]+", r"\1 " + REDACTED, text)
    # 13-19 digits with at most one space or dash between two digits, not inside a longer word (a
    # UUID, ref-…); bounded repetition, so linear on any input.
    return re.sub(r"(?<!\d)\d(?:[ -]?\d){12,18}(?!\d)", card, text)


def redact_secrets(
    logger: object, method_name: str, event_dict: MutableMapping[str, Any]
) -> dict[str, Any]:
    """A masked copy of ``event_dict``."""

    def clean(value: Any, depth: int) -> Any:
        if isinstance(value, str):
            return mask_text(value)
        if isinstance(value, int) and not isinstance(value, bool):
            digits = str(abs(value)) if abs(value) < 10**19 else ""
            return REDACTED if 13 <= len(digits) <= 19 and luhn_valid(digits) else value
        if isinstance(value, dict | list | tuple):
            if depth >= MAX_DEPTH:
                return TRUNCATED
            if isinstance(value, dict):
                cleaned: dict[str, Any] = {}
                for key, item in value.items():
                    name = key if isinstance(key, str) else str(key)
                    cleaned[name] = REDACTED if sensitive_key(name) else clean(item, depth + 1)
                return cleaned
            return [clean(item, depth + 1) for item in value]
        return value

    return clean(dict(event_dict), 0)  # type: ignore[no-any-return]
