"""Grading for exercise 07.4: a sign-up model that strips before it checks
(exercises/07_security/create_user_model.py).

The learner's ``CreateUser`` is validated directly (what it accepts, what it returns, that every
refusal is a pydantic ``ValidationError`` — a 422 — and never another exception, a 500), then put
behind ``reference.security.validation.create_signup_app`` on a fresh PostgreSQL database: statuses
on the wire and the rows stored are what is graded.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import create_engine, text

from reference.api_design.seed import CHEAP_HASHER
from reference.config import to_sqlalchemy_url
from reference.databases.migrate import upgrade
from reference.security.validation import create_signup_app

PASSPHRASE = "correct horse battery staple"  # noqa: S105 - a test passphrase
VALID = {"email": "kim@example.test", "name": "Minsu Kim", "password": PASSPHRASE}


def body(**changes: Any) -> dict[str, Any]:
    return {**VALID, **changes}


def accepts(exercise: ModuleType, data: object) -> Any:
    return exercise.CreateUser.model_validate(data)


def refuses(exercise: ModuleType, data: object) -> bool:
    """True when the model raises ValidationError; any other exception propagates (a 500)."""
    try:
        exercise.CreateUser.model_validate(data)
    except ValidationError:
        return True
    return False


def test_a_valid_body_is_accepted_and_cleaned(exercise: ModuleType) -> None:
    """A valid sign-up is accepted: the name comes back stripped, the e-mail canonical, the
    password exactly as sent (spaces are part of a passphrase)."""
    user = accepts(exercise, body(email=" Kim@Example.TEST ", name="  Minsu Kim  "))
    assert (user.email, user.name, user.password) == ("kim@example.test", "Minsu Kim", PASSPHRASE)
    spaced = accepts(exercise, body(password="  " + PASSPHRASE + "  "))
    assert spaced.password == "  " + PASSPHRASE + "  "


@pytest.mark.parametrize("name", ["   a", "    ", " a ", "\t\n", "x" * 101, "  " + "x" * 101])
def test_name_is_stripped_before_its_length_is_checked(exercise: ModuleType, name: str) -> None:
    """Strip first, then check 2–100 characters: "   a" (the guide's .min(2).max(100).trim()
    stores "a") and "    " (stored as "") must both be refused."""
    assert refuses(exercise, body(name=name)), f"name {name!r} was accepted"


def test_a_long_name_with_spaces_around_fits(exercise: ModuleType) -> None:
    """ " " + 100 characters + " " is a 100-character name once stripped: accepted."""
    assert accepts(exercise, body(name=" " + "x" * 100 + " ")).name == "x" * 100


@pytest.mark.parametrize("name", ["nul\x00byte", "tab\there", "evil\u202egnp.exe", "line\nbreak"])
def test_control_and_bidi_characters_are_refused(exercise: ModuleType, name: str) -> None:
    """A name with NUL, a tab, a newline or a bidi override ("evil\u202egnp.exe" displays as
    "evilexe.png") is refused."""
    assert refuses(exercise, body(name=name)), f"name {name!r} was accepted"


@pytest.mark.parametrize(
    "password", [PASSPHRASE, "all lower case words", "ALL UPPER CASE WORDS", "no digits at all!"]
)
def test_no_composition_rules(exercise: ModuleType, password: str) -> None:
    """NIST 800-63B: no composition rules. A long passphrase without an upper-case letter or a
    digit is a good password and must be accepted."""
    assert accepts(exercise, body(password=password)).password == password


@pytest.mark.parametrize(
    "password", ["Password1", "Qwerty123", "iloveyou1", "Passw0rd", "PASSWORD1"]
)
def test_breached_passwords_are_refused(exercise: ModuleType, password: str) -> None:
    """A password on the breached list (any case) is refused, however many character classes it
    has: "Password1" satisfies the guide's regexes and is in every breach corpus."""
    assert refuses(exercise, body(password=password)), f"{password!r} was accepted"


@pytest.mark.parametrize(
    ("password", "ok"), [("p" * 7, False), ("k" * 8, True), ("k" * 128, True), ("k" * 129, False)]
)
def test_password_length_bounds(exercise: ModuleType, password: str, ok: bool) -> None:
    """8 to 128 characters: 7 and 129 are refused, 8 and 128 accepted."""
    assert refuses(exercise, body(password=password)) is not ok, f"{len(password)} characters"


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        (" A@X.COM", "a@x.com"),
        ("Kim@Example.Test\n", "kim@example.test"),
        ("ｋｉｍ@ＥＸＡＭＰＬＥ.test", "kim@example.test"),
    ],
)
def test_email_has_one_canonical_spelling(exercise: ModuleType, raw: str, canonical: str) -> None:
    """The e-mail is stripped, checked and lower-cased whole: " A@X.COM" is "a@x.com"."""
    assert accepts(exercise, body(email=raw)).email == canonical


@pytest.mark.parametrize(
    "data",
    [
        body(email={"$ne": None}),
        body(email={"$gt": ""}),
        body(name={"$regex": ".*"}),
        body(name=["Minsu", "Kim"]),
        body(password={"$exists": True}),
        body(name=12345),
        body(email=None),
        body(password=12345678),
    ],
    ids=[
        "email-$ne",
        "email-$gt",
        "name-$regex",
        "name-list",
        "password-op",
        "name-int",
        "email-null",
        "password-int",
    ],
)
def test_operators_and_wrong_types_are_refused(exercise: ModuleType, data: object) -> None:
    """A non-string value (a MongoDB operator such as {"$ne": null}, a list, a number, null) is
    refused with ValidationError — never str()-ed into a string, never a crash."""
    assert refuses(exercise, data)


@pytest.mark.parametrize(
    "data",
    [
        body(role="admin"),
        body(email="a" * 10_000 + "@example.test"),
        body(email="not an address"),
        body(password="p" * 1_000_000),
        {"email": "kim@example.test", "name": "Minsu Kim"},
    ],
    ids=["unknown-key", "10kB-email", "no-at", "1MB-password", "missing-password"],
)
def test_hostile_and_incomplete_bodies_are_refused(exercise: ModuleType, data: object) -> None:
    """Unknown keys, a 10 kB e-mail, a 1 MB password and a missing field are each refused with
    ValidationError."""
    assert refuses(exercise, data)


@pytest.fixture
def signup(exercise: ModuleType, pg_url: str) -> Iterator[tuple[TestClient, str]]:
    upgrade(pg_url)
    app = create_signup_app(pg_url, model=exercise.CreateUser, password_hasher=CHEAP_HASHER)
    with TestClient(app) as client:
        yield client, pg_url


def stored_emails(url: str) -> list[str]:
    engine = create_engine(to_sqlalchemy_url(url))
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT email FROM users ORDER BY email"))
            return list(rows.scalars())
    finally:
        engine.dispose()


def test_signup_on_postgres_409_for_another_spelling(signup: tuple[TestClient, str]) -> None:
    """Through the sign-up API on PostgreSQL: a@x.com → 201, then " A@X.COM" → 409 (the same
    account), "B@Y.COM" → 201 stored as "b@y.com", "   a" as a name → 422; two rows in the end."""
    client, url = signup
    assert client.post("/signup", json=body(email="a@x.com")).status_code == 201
    assert client.post("/signup", json=body(email=" A@X.COM")).status_code == 409
    assert client.post("/signup", json=body(email="B@Y.COM")).status_code == 201
    assert client.post("/signup", json=body(email="c@z.com", name="   a")).status_code == 422
    assert stored_emails(url) == ["a@x.com", "b@y.com"]
