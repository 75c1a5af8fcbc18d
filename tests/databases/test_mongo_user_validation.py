"""Application-side validation of user documents (``reference.databases.mongo.validation`` and
``insert_user``): the validator's own ``$jsonSchema`` rules, checked in Python before the write, so
they hold on mongo-java-server too, which stores validators and collations but enforces neither.
Taught in ``notebooks/02_databases_mongodb.ipynb`` §2.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from bson import ObjectId
from pymongo.database import Database
from pymongo.errors import WriteError

from reference.databases.mongo import (
    USER_SCHEMA,
    DuplicateEmailError,
    UserValidationError,
    ensure_user_collection,
    insert_user,
    new_user,
    schema_violations,
)


def test_a_valid_user_has_no_violations() -> None:
    assert (
        schema_violations(new_user("ann@example.com", "Ann", bio="hi", tags=["a"]), USER_SCHEMA)
        == []
    )
    assert schema_violations({"_id": ObjectId(), **new_user("b@x.io", "Bo")}, USER_SCHEMA) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d.pop("name"), "name: required"),
        (lambda d: d.update(name="A"), "name: shorter than 2"),
        (lambda d: d.update(name="x" * 101), "name: longer than 100"),
        (lambda d: d.update(name=42), "name: not a string"),
        (lambda d: d.update(status="ACTIVE"), "status: not one of"),
        (lambda d: d.update(email="no-at-sign"), "email: does not match"),
        (lambda d: d.update(profile={"bio": "x" * 501}), "profile.bio: longer than 500"),
        (lambda d: d.update(profile={"website": "w"}), "profile.website: not allowed"),
        (lambda d: d.update(isAdmin=True), "isAdmin: not allowed"),
        (lambda d: d.update(tags=["ok", ""]), "tags.1: shorter than 1"),
        (lambda d: d.update(tags=[str(i) for i in range(21)]), "tags: more than 20 items"),
        (lambda d: d.update(createdAt="2024-01-01"), "createdAt: not a date"),
        (lambda d: d.update(_id="not-an-objectid"), "_id: not a objectId"),
    ],
)
def test_each_rule_of_the_validator_is_checked(change: Any, expected: str) -> None:
    document = new_user("ann@example.com", "Ann", now=datetime(2024, 1, 1, tzinfo=UTC))
    change(document)
    violations = schema_violations(document, USER_SCHEMA)
    assert any(v.startswith(expected) for v in violations), violations


def test_an_unsupported_keyword_is_an_error_not_a_silent_pass() -> None:
    with pytest.raises(ValueError, match="minItems"):
        schema_violations({"tags": []}, {"properties": {"tags": {"minItems": 1}}})


def test_insert_user_refuses_a_user_without_name_before_writing(mongo_db: Database[Any]) -> None:
    ensure_user_collection(mongo_db)
    nameless = new_user("nameless@example.com", "placeholder")
    del nameless["name"]
    with pytest.raises(UserValidationError, match="name: required") as caught:
        insert_user(mongo_db.users, nameless)
    assert caught.value.violations == ["name: required"]
    assert mongo_db.users.count_documents({}) == 0


def test_insert_user_refuses_an_email_that_differs_only_in_case(mongo_db: Database[Any]) -> None:
    ensure_user_collection(mongo_db)
    first = insert_user(mongo_db.users, new_user("a.b+c@x.com", "Ann"))
    with pytest.raises(DuplicateEmailError, match=r"A\.B\+C@X\.COM"):
        insert_user(mongo_db.users, new_user("A.B+C@X.COM", "Ann again"))
    # Regex metacharacters in an address are literal: "a.b+c" must not match "aXb+c" or "abbc".
    insert_user(mongo_db.users, new_user("aXb+c@x.com", "Other"))
    assert mongo_db.users.count_documents({}) == 2
    stored = mongo_db.users.find_one({"_id": first})
    assert stored is not None
    assert stored["name"] == "Ann"


def test_insert_user_writes_a_valid_user_and_returns_its_id(mongo_db: Database[Any]) -> None:
    ensure_user_collection(mongo_db)
    inserted = insert_user(mongo_db.users, new_user("ok@example.com", "Okay", tags=["t"]))
    stored = mongo_db.users.find_one({"_id": inserted})
    assert stored is not None
    assert stored["email"] == "ok@example.com"


@pytest.mark.genuine_mongodb(reason="$jsonSchema validators are enforced")
def test_the_server_refuses_exactly_what_the_application_check_refuses(
    mongo_db: Database[Any],
) -> None:
    ensure_user_collection(mongo_db)
    nameless = new_user("n@example.com", "N")
    del nameless["name"]
    documents = [
        new_user("ok@example.com", "Okay"),
        nameless,
        new_user("short@example.com", "S"),
        new_user("bio@example.com", "Bio", bio="x" * 501),
        {**new_user("extra@example.com", "Extra"), "isAdmin": True},
        new_user("tags@example.com", "Tags", tags=[""]),
    ]
    for document in documents:
        if schema_violations(document, USER_SCHEMA):
            with pytest.raises(WriteError) as refused:
                mongo_db.users.insert_one(document)
            assert refused.value.code == 121, document
        else:
            mongo_db.users.insert_one(document)


def test_an_unsupported_bson_type_is_an_error_not_a_silent_pass() -> None:
    with pytest.raises(ValueError, match="decimal"):
        schema_violations({"price": 1}, {"properties": {"price": {"bsonType": "decimal"}}})
