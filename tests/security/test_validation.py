"""Input validation: the guide's Zod port shows each defect; the reference refuses with 422/409.

Guide defects (guide-defects.md §7.1, §7.2): length checked before trim, 400 instead of 422,
composition rules instead of a breached check, unknown keys dropped, mongo-sanitize rewriting
operators silently. Each has a test on the port (the defect) and on the reference (fixed). The
409 runs against PostgreSQL, the operator injection against the course's MongoDB server.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel, ValidationError
from pymongo.database import Database
from schemathesis import GenerationMode
from sqlalchemy import create_engine, text

from guide.security.validation import CreateUserSchema, create_guide_app, mongo_sanitize
from reference.api_design.fuzz import fuzz_asgi
from reference.api_design.schemas import UserCreate, canonical_email
from reference.api_design.seed import CHEAP_HASHER
from reference.config import to_sqlalchemy_url
from reference.databases.migrate import upgrade
from reference.security.validation import (
    CreateUser,
    create_signup_app,
    login_filter,
)

PASSPHRASE = "correct horse battery staple"
VALID = {"email": "kim@example.test", "name": "Minsu Kim", "password": PASSPHRASE}


def body(**changes: Any) -> dict[str, Any]:
    return {**VALID, **changes}


def refused(data: object) -> bool:
    try:
        CreateUser.model_validate(data)
    except ValidationError:
        return True
    return False


# --- guide port: each defect ---------------------------------------------------------------


def test_guide_checks_length_before_trim() -> None:
    guide_ok = "Password1"  # what the guide's regexes want
    assert CreateUserSchema.model_validate(body(name="   a", password=guide_ok)).name == "a"
    assert CreateUserSchema.model_validate(body(name="    ", password=guide_ok)).name == ""


def test_guide_composition_rules_accept_breached_and_refuse_passphrases() -> None:
    CreateUserSchema.model_validate(body(password="Password1"))
    with pytest.raises(ValidationError):
        CreateUserSchema.model_validate(body(password=PASSPHRASE))


def test_guide_email_check_refuses_a_non_address() -> None:
    with pytest.raises(ValidationError, match="Invalid email"):
        CreateUserSchema.model_validate(body(email="not-an-email", password="Password1"))


def test_guide_drops_unknown_keys_silently() -> None:
    parsed = CreateUserSchema.model_validate(body(password="Password1", role="admin"))
    assert "role" not in parsed.model_dump()


def test_guide_answers_400_and_echoes_the_input() -> None:
    stored: list[BaseModel] = []

    async def store(model: BaseModel) -> None:
        stored.append(model)

    with TestClient(create_guide_app(store)) as client:
        response = client.post("/users", json=body(password="hunter2-secret"))
        assert response.status_code == 400
        assert "hunter2-secret" in response.text  # Zod's details carry the password back
        created = client.post("/users", json=body(name="    ", password="Password1"))
        assert created.status_code == 201
        assert created.json()["name"] == ""
    assert len(stored) == 1


def test_guide_mongo_sanitize_rewrites_instead_of_refusing() -> None:
    assert mongo_sanitize({"email": {"$ne": None}}) == {"email": {}}
    assert mongo_sanitize({"prefs": {"a.b": 1, "ok": [{"$gt": 1}]}}) == {"prefs": {"ok": [{}]}}


# --- reference: each defect fixed ------------------------------------------------------------


@pytest.mark.parametrize("name", ["   a", "    ", "a", "", " \t\n ", "x" * 101])
def test_reference_strips_before_checking_length(name: str) -> None:
    assert refused(body(name=name))


def test_reference_keeps_the_stripped_name() -> None:
    assert CreateUser.model_validate(body(name="  Al  ")).name == "Al"
    assert CreateUser.model_validate(body(name=" " + "x" * 100 + " ")).name == "x" * 100


@pytest.mark.parametrize(
    "password", ["Password1", "Qwerty123", "x" * 129, "short", "kim@example.test"]
)
def test_reference_refuses_breached_long_short_and_context_passwords(password: str) -> None:
    assert refused(body(password=password))


@pytest.mark.parametrize("password", ["Password1", "kim@example.test!"])
def test_a_refused_password_is_reported_on_the_password_field(password: str) -> None:
    """The breached/context check names the field (REST's loc, GraphQL's error field), where a
    model-level check reported no field at all."""
    with pytest.raises(ValidationError) as refusal:
        CreateUser.model_validate(body(password=password))
    assert [error["loc"] for error in refusal.value.errors()] == [("password",)]


def test_the_sign_up_model_is_chapter_01s() -> None:
    """One policy: chapter 01's REST, GraphQL and gRPC APIs validate with this very model."""
    assert CreateUser is UserCreate


@pytest.mark.parametrize("password", [PASSPHRASE, "all lower case words here", "x" * 8 + "y" * 120])
def test_reference_has_no_composition_rules(password: str) -> None:
    assert CreateUser.model_validate(body(password=password)).password == password


@pytest.mark.parametrize(
    "data",
    [
        body(email={"$ne": None}),
        body(email={"$gt": ""}),
        body(name={"$regex": ".*"}),
        body(password=["a", "b"]),
        body(name=12345678),
        body(email=None),
        body(role="admin"),
        {"email": "kim@example.test", "password": PASSPHRASE},
        ["not", "an", "object"],
        "kim@example.test",
        body(name="evil\u202egnp.exe"),
        body(name="nul\x00byte"),
        body(email="a" * 10_000 + "@example.test"),
        body(email="not an address"),
    ],
    ids=lambda data: repr(data)[:40],
)
def test_reference_refuses_operators_wrong_types_unknown_keys_and_hostile_text(
    data: object,
) -> None:
    assert refused(data)


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        (" A@X.COM", "a@x.com"),
        ("Kim@Example.Test\t", "kim@example.test"),
        ("ｋｉｍ@ＥＸＡＭＰＬＥ.test", "kim@example.test"),
        ("user@XN--EXMPLE-CUA.test", "user@exämple.test"),
    ],
)
def test_canonical_email_is_one_spelling(raw: str, canonical: str) -> None:
    assert canonical_email(raw) == canonical


def test_the_password_never_shows_in_a_repr() -> None:
    assert PASSPHRASE not in repr(CreateUser.model_validate(VALID))


# --- reference over HTTP, on PostgreSQL ------------------------------------------------------


@pytest.fixture
def signup(pg_url: str) -> Iterator[tuple[TestClient, str]]:
    upgrade(pg_url)
    with TestClient(create_signup_app(pg_url, password_hasher=CHEAP_HASHER)) as client:
        yield client, pg_url


def emails(url: str) -> list[str]:
    engine = create_engine(to_sqlalchemy_url(url))
    try:
        with engine.connect() as connection:
            return list(
                connection.execute(text("SELECT email FROM users ORDER BY email")).scalars()
            )
    finally:
        engine.dispose()


def test_signup_duplicate_in_another_spelling_is_409(signup: tuple[TestClient, str]) -> None:
    client, url = signup
    assert client.post("/signup", json=body(email="a@x.com")).status_code == 201
    again = client.post("/signup", json=body(email=" A@X.COM"))
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    assert client.post("/signup", json=body(email="B@Y.COM")).status_code == 201
    assert emails(url) == ["a@x.com", "b@y.com"]


@pytest.mark.parametrize(
    "data",
    [
        body(name="   a"),
        body(name="    "),
        body(password="p" * 129),
        body(password="Password1"),
        body(email={"$ne": None}),
        body(role="admin"),
    ],
    ids=["name-3sp-a", "name-blank", "password-129", "breached", "operator", "unknown-key"],
)
def test_signup_refusals_are_422_problem_details_without_echo(
    signup: tuple[TestClient, str], data: dict[str, Any]
) -> None:
    client, url = signup
    response = client.post("/signup", json=data)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert str(data["password"]) not in response.text
    assert emails(url) == []


@pytest.mark.parametrize("raw", [b"{", b'{"email": NaN}', b"\xff\xfe", b""])
def test_signup_body_that_is_not_json_is_400(signup: tuple[TestClient, str], raw: bytes) -> None:
    client, _ = signup
    response = client.post("/signup", content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 400


# --- operator injection against the guide's MongoDB-style query ------------------------------


@pytest.fixture
def mongo_users(mongo_db: Database[dict[str, object]]) -> Database[dict[str, object]]:
    mongo_db["users"].insert_many(
        [{"email": "admin@example.test", "role": "admin"}, {"email": "kim@example.test"}]
    )
    return mongo_db


def test_operator_injection_matches_a_user_unless_refused(
    mongo_users: Database[dict[str, object]], mongo_is_genuine: bool
) -> None:
    users = mongo_users["users"]
    attack = {"email": {"$ne": None}, "password": "whatever"}
    # The guide's login without sanitising: the operator matches the first user, the admin.
    hit = users.find_one({"email": attack["email"]})
    assert hit is not None
    assert hit["email"] == "admin@example.test"
    # mongo-sanitize turns it into {"email": {}} and lets the request go on. Genuine MongoDB
    # compares with the empty document (no match); the course's mongo-java-server reads {} as no
    # condition at all and matches the admin: there the silent rewrite is itself the bypass.
    sanitized = mongo_sanitize(attack)
    assert sanitized == {"email": {}, "password": "whatever"}
    assert (users.find_one({"email": sanitized["email"]}) is None) == mongo_is_genuine
    # The reference refuses the body before any query exists.
    with pytest.raises(ValidationError):
        login_filter(attack)
    # And a real login still finds its user, in any spelling.
    found = users.find_one(login_filter({"email": " KIM@example.TEST", "password": "x"}))
    assert found is not None
    assert found["email"] == "kim@example.test"


def test_signup_survives_schemathesis_negative_testing(pg_url: str) -> None:
    """Requests the sign-up spec forbids (wrong types, missing or unknown keys, bad lengths) are all
    refused with a documented 4xx — never a 5xx, never accepted."""
    upgrade(pg_url)
    app = create_signup_app(pg_url, password_hasher=CHEAP_HASHER)
    report = fuzz_asgi(app, max_examples=20, modes=(GenerationMode.NEGATIVE,))
    assert report.requests >= 20
    assert report.server_errors == 0
    assert report.failed_checks() == []
    assert all(400 <= status < 500 for status in report.statuses)
