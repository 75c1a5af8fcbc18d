"""The redaction processor: secrets masked wherever they sit, non-secrets kept, the caller's data
untouched, and hostile values bounded (guide-defects.md §8.1; the guide's logger: test_logger_guide.py)."""

from __future__ import annotations

import io
import json
import math
from typing import Any

import pytest

from reference.observability.logging import make_logger
from reference.observability.redaction import REDACTED, Limits, Redactor, luhn_valid, redact

SECRET = "s3cr3t-value-0xC0FFEE"
CARD = "4111 1111 1111 1111"  # a test Visa number: Luhn-valid


def _run(**fields: Any) -> str:
    out = io.StringIO()
    make_logger("users", level="debug", stream=out).info("event", **fields)
    return out.getvalue()


@pytest.mark.parametrize(
    "fields",
    [
        {"password": SECRET},
        {"Password": SECRET},
        {"user_password": SECRET},
        {"user": {"credentials": {"passwd": SECRET}}},
        {"body": {"items": [{"refresh_token": SECRET}]}},
        {"headers": {"Authorization": SECRET, "X-Api-Key": SECRET, "Cookie": SECRET}},
        {"client_secret": SECRET},
        {"accessToken": SECRET},
        {"private_key": {"pem": SECRET}},  # a whole dict under a sensitive key
        {"tokens": [SECRET, SECRET]},
    ],
)
def test_sensitive_keys_are_masked_at_any_depth(fields: dict[str, Any]) -> None:
    line = _run(**fields)
    assert SECRET not in line
    assert REDACTED in line


@pytest.mark.parametrize(
    "text",
    [
        f"Bearer {SECRET}",
        f"calling /users with header Authorization: Bearer {SECRET} failed",
        f"retrying with Basic {SECRET}",
        f"upstream said: 'bearer {SECRET}' was rejected",
    ],
)
def test_credentials_inside_strings(text: str) -> None:
    line = _run(note=text, nested={"list": [text]})
    assert SECRET not in line
    assert line.count(REDACTED) == 2


def test_card_numbers_are_masked_order_ids_are_not() -> None:
    order_id = "4111111111111112"  # same shape, fails Luhn
    epoch_ms = 1733155845123  # 13 digits, starts with 1
    assert not luhn_valid(order_id)
    record = json.loads(
        _run(
            card=CARD,
            card_int=4111111111111111,
            message=f"charged card {CARD.replace(' ', '-')} for order {order_id}",
            order_id=order_id,
            at=epoch_ms,
            phone="+82 10 1234 5678",
            request_id="79ca4382-1381-4047-8e26-58ef88365f5b",  # holds a Luhn-valid 4382-…-8
        )
    )
    assert record["request_id"] == "79ca4382-1381-4047-8e26-58ef88365f5b"
    assert record["card"] == REDACTED
    assert record["card_int"] == REDACTED
    assert record["message"] == f"charged card {REDACTED} for order {order_id}"
    assert record["order_id"] == order_id
    assert record["at"] == epoch_ms
    assert record["phone"] == "+82 10 1234 5678"


def test_non_secrets_survive_untouched() -> None:
    fields = {
        "user_id": "u-42",
        "email": "a@example.com",
        "author": "kim",
        "order": {"id": "o-7", "total": 12_500, "items": [{"sku": "A-1", "qty": 2}]},
        "ok": True,
        "ratio": 0.25,
        "nothing": None,
        "note": "a bearer of bad news ran basic checks",
    }
    record = json.loads(_run(**fields))
    assert {key: record[key] for key in fields} == fields


def test_the_callers_dict_is_not_changed() -> None:
    body = {"user": {"password": SECRET}, "headers": [f"Bearer {SECRET}"]}
    snapshot = json.dumps(body)
    masked = redact(body)
    assert json.dumps(body) == snapshot
    assert masked == {"user": {"password": REDACTED}, "headers": [f"Bearer {REDACTED}"]}


def test_ten_megabyte_message_is_bounded() -> None:
    line = _run(payload="x" * 10_000_000, message=f"{'y' * 9_000} Bearer {SECRET}")
    assert len(line) < 20_000
    record = json.loads(line)
    assert record["payload"].endswith("…[TRUNCATED: 10000000 chars]")
    assert SECRET not in line


def test_a_secret_straddling_the_cut_is_masked_not_half_kept() -> None:
    limits = Limits(max_chars=100)
    text = "a" * 95 + f" Bearer {SECRET}"
    masked = redact({"note": text}, limits)["note"]
    assert "s3cr" not in masked


def test_nul_bytes_huge_ints_nan_and_odd_keys() -> None:
    class Hostile:
        def __str__(self) -> str:
            raise RuntimeError("no")

    line = _run(
        nul="a\x00b",
        big=10**5000,  # json.dumps of this raises ValueError (int_max_str_digits)
        nan=math.nan,
        inf=-math.inf,
        raw=b"\xff\xfe bytes",
        hostile=Hostile(),
        odd={1: "int key", (2, 3): "tuple key", None: "none key", "password": SECRET},
    )
    assert "\n" not in line.rstrip("\n")
    record = json.loads(line)
    assert record["nul"] == "a\ufffdb"
    assert record["big"] == "[TRUNCATED: 16610-bit integer]"
    assert record["nan"] == "nan"
    assert record["inf"] == "-inf"
    assert record["hostile"] == "<unprintable Hostile: RuntimeError>"
    assert record["odd"] == {
        "1": "int key",
        "(2, 3)": "tuple key",
        "None": "none key",
        "password": REDACTED,
    }


def test_deep_nesting_and_cycles_end_at_the_depth_bound() -> None:
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(100_000):  # far past the recursion limit
        node["child"] = {}
        node = node["child"]
    cyclic: dict[str, Any] = {"name": "loop"}
    cyclic["self"] = cyclic
    record = json.loads(_run(deep=deep, cyclic=cyclic))
    depth, node = 0, record["deep"]
    while isinstance(node, dict):
        node, depth = node["child"], depth + 1
    assert node == "[TRUNCATED: too deep]"
    assert depth < 10
    assert "[TRUNCATED: too deep]" in json.dumps(record["cyclic"])


def test_wide_containers_are_cut_and_say_so() -> None:
    wide = {f"k{i}": i for i in range(100_000)}
    long_list = list(range(100_000))
    record = json.loads(_run(wide=wide, long_list=long_list))
    assert len(record["wide"]) == 101
    assert record["wide"]["[TRUNCATED]"] == "99900 more keys"
    assert record["long_list"][-1] == "[TRUNCATED: 99900 more items]"


def test_total_values_per_event_are_bounded() -> None:
    tree = {f"a{i}": {f"b{j}": list(range(100)) for j in range(100)} for i in range(100)}
    masked = Redactor()(None, "info", {"event": "x", "tree": tree})
    assert len(json.dumps(masked)) < 200_000
    assert "[TRUNCATED: too many values]" in json.dumps(masked)
