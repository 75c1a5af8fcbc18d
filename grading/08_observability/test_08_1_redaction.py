"""Grading for exercise 08.1: a structlog processor that masks secrets
(exercises/08_observability/redaction.py).

Graded by what a real structlog logger writes with the hand-in in its processor chain: the JSON
lines, searched for the secret and parsed for what must survive — and by the caller's dict after the
call."""

from __future__ import annotations

import copy
import io
import json
import sys
from types import ModuleType
from typing import Any

import pytest
import structlog

SECRET = "hunter2-0xC0FFEE-s3cr3t"  # noqa: S105 - the planted secret the log must not show
REDACTED = "[REDACTED]"


def log_line(exercise: ModuleType, **fields: Any) -> str:
    """One event through ``[merge_contextvars, add_log_level, hand-in, JSONRenderer]``."""
    out = io.StringIO()
    logger = structlog.wrap_logger(
        structlog.WriteLogger(out),
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            exercise.redact_secrets,
            structlog.processors.JSONRenderer(),
        ],
    )
    logger.info("event", **fields)
    return out.getvalue()


def test_nested_secrets_are_masked(exercise: ModuleType) -> None:
    line = log_line(
        exercise,
        body={"user": {"email": "a@example.com", "password": SECRET}},
        headers={"authorization": SECRET, "accept": "application/json"},
        sessions=[{"device": "phone", "tokens": [{"refresh_token": SECRET}]}],
        pair=({"client_secret": SECRET}, f"Bearer {SECRET}"),  # tuples are walked like lists
    )
    assert SECRET not in line, f"the secret reached the log: {line}"
    record = json.loads(line)
    assert record["body"]["user"] == {"email": "a@example.com", "password": REDACTED}
    assert record["headers"] == {"authorization": REDACTED, "accept": "application/json"}


@pytest.mark.parametrize(
    "key",
    [
        "Password",
        "PASSWD",
        "user_password",
        "newPassword",
        "X-Api-Key",
        "api_key",
        "client_secret",
        "accessToken",
        "Set-Cookie",
        "Authorization",
    ],
)
def test_every_spelling_of_a_sensitive_key(exercise: ModuleType, key: str) -> None:
    line = log_line(exercise, **{key: SECRET}, nested={"list": [{key: SECRET}]})
    assert SECRET not in line, f"{key!r} was not masked: {line}"
    record = json.loads(line)
    assert record[key] == REDACTED
    assert record["nested"]["list"][0][key] == REDACTED


def test_a_whole_value_under_a_sensitive_key(exercise: ModuleType) -> None:
    line = log_line(exercise, secrets={"db": SECRET, "list": [SECRET]}, token=12345678)
    record = json.loads(line)
    assert record["secrets"] == REDACTED
    assert record["token"] == REDACTED


JWT_PIECES = ("eyJhbGciOiJIUzI1NiJ9", "eyJzdWIiOiJraW0ifQ", "s3cr3t-Sig_x~+/=")
JWT = ".".join(JWT_PIECES)


@pytest.mark.parametrize(
    "text",
    [
        f"Bearer {SECRET}",
        f"GET /users failed: upstream refused 'Authorization: Bearer {JWT}'",
        f"retrying with bearer   {JWT}",
    ],
)
def test_bearer_credentials_inside_strings(exercise: ModuleType, text: str) -> None:
    after = " (attempt 2 of 3, next in 200 ms)"
    line = log_line(exercise, note=text + after, calls=[{"header": text}])
    leaked = [piece for piece in (SECRET, *JWT_PIECES) if piece in line]
    assert not leaked, f"part of a Bearer credential reached the log: {leaked} in {line}"
    record = json.loads(line)
    assert "[REDACTED]" in record["note"]
    assert record["note"].split("earer")[0] == text.split("earer")[0], "the text before was changed"
    assert record["note"].endswith(after), "only the credential is masked: the text after it stays"


def test_every_credential_in_a_string(exercise: ModuleType) -> None:
    text = f"tried Bearer {SECRET}-a, then Bearer {SECRET}-b, then bearer {SECRET}-c"
    record = json.loads(log_line(exercise, note=text))
    assert SECRET not in record["note"], f"a second credential in the same string leaked: {record}"
    assert record["note"].count("[REDACTED]") == 3


def test_masked_keys_stay_in_the_line(exercise: ModuleType) -> None:
    record = json.loads(log_line(exercise, password=SECRET, user={"api_key": SECRET}))
    assert record.get("password") == REDACTED, (
        "the key was dropped: the reader cannot see it was set"
    )
    assert record["user"] == {"api_key": REDACTED}


def test_the_callers_dict_is_unchanged(exercise: ModuleType) -> None:
    body = {"user": {"name": "kim", "password": SECRET}, "notes": [f"Bearer {SECRET}"]}
    before = copy.deepcopy(body)
    event = {"event": "signup", "body": body, "password": SECRET}
    masked = exercise.redact_secrets(None, "info", event)
    assert body == before, "the processor changed the caller's data (the request body it logged)"
    assert event["password"] == SECRET
    assert masked["password"] == REDACTED
    assert masked["body"]["user"]["password"] == REDACTED


@pytest.mark.parametrize(
    "card",
    ["4111111111111111", "4111 1111 1111 1111", "5500-0000-0000-0004", "378282246310005"],
)
def test_card_numbers_are_masked(exercise: ModuleType, card: str) -> None:
    line = log_line(exercise, note=f"charged {card} for order o-7", card=card)
    digits = card.replace(" ", "").replace("-", "")
    assert digits[4:12] not in line.replace(" ", "").replace("-", "")
    record = json.loads(line)
    assert record["note"] == f"charged {REDACTED} for order o-7"
    assert record["card"] == REDACTED
    assert json.loads(log_line(exercise, card_number=int(digits)))["card_number"] == REDACTED


def test_other_numbers_survive(exercise: ModuleType) -> None:
    """Over-redaction is a bug too: an order id, a phone number, an amount and a timestamp are what
    the person on call needs, and none of them passes Luhn."""
    fields = {
        "order_id": "4111111111111112",
        "note": "order 4111111111111112 paid, call +82 10 1234 5678 at 1733155845124",
        "phone": "+82-10-1234-5678",
        "amount": 1_250_000,
        "at_ms": 1733155845124,
        "tracking": 9_400_111_202_555_842_761,
        "user": {"id": "u-42", "email": "a@example.com", "author": "kim"},
        "ok": True,
        "ratio": 0.5,
        "nothing": None,
    }
    record = json.loads(log_line(exercise, **fields))
    for key, value in fields.items():
        assert record[key] == value, f"{key!r} was changed: {record[key]!r}"
    assert record["event"] == "event"
    assert record["level"] == "info"


def test_ids_with_digit_runs_survive(exercise: ModuleType) -> None:
    """Request ids are what a log is searched by: a UUID whose groups hold a Luhn-valid run of 13+
    digits (4382-1381-4047-8 is one) is not a card."""
    ids = [
        "79ca4382-1381-4047-8e26-58ef88365f5b",
        "d26e2908-1006-4922-9db2-3963dfbddbd6",
        "12345678-1234-4123-8123-123456789012",
    ]
    fields = {
        "request_id": ids[0],
        "note": f"retrying {ids[1]} after ref-4111111111111111",
        "ids": ids,
    }
    record = json.loads(log_line(exercise, **fields))
    for key, value in fields.items():
        assert record[key] == value, f"{key!r} was changed: {record[key]!r}"


def test_deep_nesting_is_cut_not_a_crash(exercise: ModuleType) -> None:
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(100_000):
        node["child"] = {}
        node = node["child"]
    cyclic: dict[str, Any] = {"name": "loop"}
    cyclic["self"] = cyclic
    limit = sys.getrecursionlimit()
    try:
        line = log_line(exercise, deep=deep, cyclic=cyclic, password=SECRET)
    except RecursionError:
        pytest.fail("RecursionError on deeply nested input: a hostile body takes logging down")
    finally:
        assert sys.getrecursionlimit() == limit
    record = json.loads(line)
    depth, cursor = 0, record["deep"]
    while isinstance(cursor, dict):
        cursor, depth = cursor["child"], depth + 1
    assert cursor == "[TRUNCATED]"
    assert depth <= 8
    assert record["password"] == REDACTED


def test_keys_that_are_not_strings(exercise: ModuleType) -> None:
    record = json.loads(
        log_line(exercise, odd={1: "one", (2, 3): "pair", None: "none", "password": SECRET})
    )
    assert record["odd"] == {"1": "one", "(2, 3)": "pair", "None": "none", "password": REDACTED}
