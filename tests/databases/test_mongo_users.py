"""The users collection: server-side validation, idempotent indexes, case-insensitive unique email,
operator injection refused (guide §2.3). Each defect is shown on the guide's port
(``guide.databases.mongo_user``) and its absence on ``reference.databases.mongo.users``.

mongo-java-server (the native stand-in) accepts ``$jsonSchema`` validators and index collations but
enforces neither, and has no ``$text``: those tests are marked ``genuine_mongodb`` and run against
``docker compose up mongo``.
"""

from __future__ import annotations

from typing import Any

import pytest
from pymongo import MongoClient, monitoring
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError, WriteError

from guide.databases import mongo_user as guide
from reference.config import Settings
from reference.databases.mongo import (
    UnsafeQueryValueError,
    ensure_user_collection,
    find_user_by_email,
    is_genuine_mongodb,
    new_user,
)
from reference.databases.mongo.search import ensure_text_index, search_users

DOCUMENT_FAILED_VALIDATION = 121


def prefixes(db: Database[Any]) -> list[tuple[str, str]]:
    """Pairs (a, b) of indexes where a's key is a strict left prefix of b's key."""
    keys = {name: list(info["key"]) for name, info in db.users.index_information().items()}
    return [
        (a, b)
        for a, ka in keys.items()
        for b, kb in keys.items()
        if a != b and len(ka) < len(kb) and kb[: len(ka)] == ka
    ]


def test_setup_is_idempotent_with_exactly_the_expected_indexes(mongo_db: Database[Any]) -> None:
    first = ensure_user_collection(mongo_db)
    second = ensure_user_collection(mongo_db)
    assert (first.created, second.created) == (True, False)
    assert first.indexes == second.indexes == dict(mongo_db.users.index_information())
    assert set(second.indexes) == {
        "_id_",
        "uq_users_email",
        "ix_users_status_created",
        "ix_users_tags",
    }
    email = second.indexes["uq_users_email"]
    assert email["unique"] is True
    assert email["key"] == [("email", 1)]
    assert dict(email["collation"])["strength"] == 2
    assert second.indexes["ix_users_status_created"]["key"] == [("status", 1), ("createdAt", -1)]


def test_reference_has_no_redundant_prefix_index(mongo_db: Database[Any]) -> None:
    ensure_user_collection(mongo_db)
    assert prefixes(mongo_db) == []


def test_guide_status_index_is_a_redundant_prefix(mongo_db: Database[Any]) -> None:
    guide.ensure_indexes(mongo_db)
    assert ("status_1", "status_1_createdAt_-1") in prefixes(mongo_db)


def test_report_tells_whether_the_server_keeps_the_validator(mongo_db: Database[Any]) -> None:
    report = ensure_user_collection(mongo_db)
    # True on genuine MongoDB; False on mongo-java-server, which silently drops validators —
    # the report says so instead of pretending the collection is protected.
    assert report.validator_stored is is_genuine_mongodb(mongo_db)


def test_reference_setup_fails_loudly_on_existing_duplicates(mongo_db: Database[Any]) -> None:
    mongo_db.users.insert_many([new_user("dup@x.com", "First"), new_user("dup@x.com", "Second")])
    with pytest.raises(DuplicateKeyError):
        ensure_user_collection(mongo_db)


def test_guide_autoindex_swallows_the_failed_unique_build(mongo_db: Database[Any]) -> None:
    mongo_db.users.insert_many([{"email": "dup@x.com"}, {"email": "dup@x.com"}])
    built = guide.ensure_indexes(mongo_db)  # no error reaches the caller …
    assert "email_1" not in built
    guide.create_user(mongo_db, {"email": "dup@x.com", "name": "Third"})  # … and "unique" isn't
    assert mongo_db.users.count_documents({"email": "dup@x.com"}) == 3


def test_reference_refuses_operator_injection(mongo_db: Database[Any]) -> None:
    ensure_user_collection(mongo_db)
    mongo_db.users.insert_one(new_user("admin@x.com", "Admin"))
    for hostile in ({"$ne": None}, {"$gt": ""}, {"$regex": ".*"}, ["admin@x.com"], 1, None):
        with pytest.raises(UnsafeQueryValueError, match="email must be a string"):
            find_user_by_email(mongo_db.users, hostile)
    found = find_user_by_email(mongo_db.users, "admin@x.com")
    assert found is not None
    assert found["name"] == "Admin"
    assert find_user_by_email(mongo_db.users, '{"$ne": null}') is None  # a string is just a string


def test_guide_lookup_lets_an_operator_through(mongo_db: Database[Any]) -> None:
    guide.create_user(mongo_db, {"email": "admin@x.com", "name": "Admin"})
    found = guide.find_user_by_email(mongo_db, {"$ne": None})  # JSON body {"email": {"$ne": null}}
    assert found is not None
    assert found["email"] == "admin@x.com"  # logged in as whoever comes first


def test_guide_collection_accepts_what_the_model_would_refuse(mongo_db: Database[Any]) -> None:
    guide.ensure_indexes(mongo_db)
    mongo_db.users.insert_one({"email": "a@x.com"})  # no name: only Mongoose would have minded
    guide.create_user(mongo_db, {"email": "b@x.com", "name": "Bee"})
    mongo_db.users.update_one({"email": "b@x.com"}, {"$unset": {"name": ""}})
    guide.create_user(
        mongo_db, {"email": "c@x.com", "name": "Cee", "profile": {"bio": "x" * 10**6}}
    )
    assert mongo_db.users.count_documents({"name": {"$exists": False}}) == 2
    assert len(mongo_db.users.find_one({"email": "c@x.com"})["profile"]["bio"]) == 10**6  # type: ignore[index]


def test_guide_email_uniqueness_is_case_sensitive(mongo_db: Database[Any]) -> None:
    guide.ensure_indexes(mongo_db)
    guide.create_user(mongo_db, {"email": "a@x.com", "name": "Ann"})
    mongo_db.users.insert_one({"email": "A@x.com", "name": "Ann"})  # any writer but Mongoose
    assert mongo_db.users.count_documents({}) == 2


@pytest.mark.genuine_mongodb(reason="$jsonSchema validators are enforced")
def test_reference_server_refuses_a_user_without_name(mongo_db: Database[Any]) -> None:
    ensure_user_collection(mongo_db)
    doc = new_user("a@x.com", "Ann")
    del doc["name"]
    with pytest.raises(WriteError) as caught:
        mongo_db.users.insert_one(doc)
    assert caught.value.code == DOCUMENT_FAILED_VALIDATION
    mongo_db.users.insert_one(new_user("b@x.com", "Bee"))
    with pytest.raises(WriteError) as caught:
        mongo_db.users.update_one({"email": "b@x.com"}, {"$unset": {"name": ""}})
    assert caught.value.code == DOCUMENT_FAILED_VALIDATION


@pytest.mark.genuine_mongodb(reason="$jsonSchema validators are enforced")
def test_reference_bio_is_bounded(mongo_db: Database[Any]) -> None:
    ensure_user_collection(mongo_db)
    mongo_db.users.insert_one(new_user("a@x.com", "Ann", bio="x" * 500))
    with pytest.raises(WriteError) as caught:
        mongo_db.users.insert_one(new_user("b@x.com", "Bee", bio="x" * 501))
    assert caught.value.code == DOCUMENT_FAILED_VALIDATION


@pytest.mark.genuine_mongodb(reason="unique indexes honour their collation")
def test_reference_email_is_unique_regardless_of_case(mongo_db: Database[Any]) -> None:
    ensure_user_collection(mongo_db)
    mongo_db.users.insert_one(new_user("a@x.com", "Ann"))
    with pytest.raises(DuplicateKeyError):
        mongo_db.users.insert_one(new_user("A@x.com", "Ann"))
    found = find_user_by_email(mongo_db.users, "A@X.COM")
    assert found is not None
    assert found["email"] == "a@x.com"


@pytest.mark.genuine_mongodb(reason="$text queries and text indexes")
def test_text_search_ranks_name_matches_first(mongo_db: Database[Any]) -> None:
    ensure_user_collection(mongo_db)
    ensure_text_index(mongo_db.users)
    mongo_db.users.insert_many(
        [
            new_user("a@x.com", "Kim Gardener", bio="likes databases"),
            new_user("b@x.com", "Lee Coder", bio="a gardener at weekends"),
            new_user("c@x.com", "Park Baker", bio="bread"),
        ]
    )
    names = [user["name"] for user in search_users(mongo_db.users, "gardener")]
    assert names == ["Kim Gardener", "Lee Coder"]
    with pytest.raises(ValueError, match="non-empty string"):
        search_users(mongo_db.users, {"$ne": None})


class _CreateFirst(monitoring.CommandListener):
    """Another deployer: creates ``users`` (without a validator) just before this client's own
    ``create`` of it reaches the server."""

    def __init__(self, other: Database[Any]) -> None:
        self.other = other
        self.raced = False

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name == "create" and event.command["create"] == "users" and not self.raced:
            self.raced = True
            self.other.create_collection("users")

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


def test_reference_setup_survives_another_deployer_creating_the_collection_first(
    mongo_db: Database[Any], settings: Settings
) -> None:
    """Two deploys at once: the collection appears between the setup's existence check and its
    create. That is "it exists" (collMod, indexes), not an error."""
    listener = _CreateFirst(mongo_db)
    client: MongoClient[dict[str, Any]] = MongoClient(
        settings.mongodb_url, serverSelectionTimeoutMS=5000, event_listeners=[listener]
    )
    try:
        report = ensure_user_collection(client[mongo_db.name])
    finally:
        client.close()
    assert listener.raced
    assert report.created is False
    # The other deployer's bare collection still gets the validator (collMod).
    assert report.validator_stored is is_genuine_mongodb(mongo_db)
    assert {"uq_users_email", "ix_users_status_created"} <= set(report.indexes)
