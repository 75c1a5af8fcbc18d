"""Grading for exercise 02.9: idempotent users collection setup (exercises/02_databases/users_collection.py).

The grader records the commands the exercise's client sends (a pymongo ``CommandListener``) and reads
the indexes back. mongo-java-server, the course's MongoDB-compatible server, accepts validators but
neither stores nor enforces them and has no ``collMod``: there the validator is graded by the
``create``/``collMod`` command that carries it; the enforcement tests need genuine MongoDB.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import pytest
from pymongo import MongoClient, monitoring
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError, WriteError

from reference.config import Settings
from reference.databases.mongo import EMAIL_COLLATION, USER_SCHEMA, new_user

VALIDATOR = {"$jsonSchema": USER_SCHEMA}
OLD_VALIDATOR = {"$jsonSchema": {"bsonType": "object", "required": ["email"]}}
"""What an earlier release of the app put on the collection."""
DROPS = {"drop", "dropDatabase", "delete", "dropIndexes", "renameCollection"}
DEPLOYERS = 8
DOCUMENT_FAILED_VALIDATION = 121


class Commands(monitoring.CommandListener):
    """The commands a client sends; ``before`` runs in the sending thread just before each one."""

    def __init__(self) -> None:
        self.sent: list[monitoring.CommandStartedEvent] = []
        self.before: Callable[[monitoring.CommandStartedEvent], None] = lambda event: None
        self._lock = threading.Lock()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        with self._lock:
            self.sent.append(event)
        self.before(event)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass

    def names(self) -> list[str]:
        return [event.command_name for event in self.sent]

    def validators(self) -> list[tuple[str, Any]]:
        """(command, validator) for every create/collMod of ``users``, in order."""
        return [
            (event.command_name, event.command.get("validator"))
            for event in self.sent
            if event.command_name in ("create", "collMod")
            and event.command.get(event.command_name) == "users"
        ]


@pytest.fixture
def listened(
    mongo_db: Database[Any], settings: Settings
) -> Iterator[tuple[Database[Any], Commands]]:
    """The test's database through a client that records every command it sends."""
    commands = Commands()
    client: MongoClient[dict[str, Any]] = MongoClient(
        settings.mongodb_url, serverSelectionTimeoutMS=5000, event_listeners=[commands]
    )
    try:
        yield client[mongo_db.name], commands
    finally:
        client.close()


def seed_old_release(db: Database[Any]) -> set[Any]:
    """The collection as an earlier release left it: the OLD validator, the email index only (defined
    as today), no status index, and a random number of users. Returns their ids."""
    db.create_collection("users", validator=OLD_VALIDATOR)
    db.users.create_index("email", name="uq_users_email", unique=True, collation=EMAIL_COLLATION)
    users = [user(f"User {i}") for i in range(3 + secrets.randbelow(20))]
    return set(db.users.insert_many(users).inserted_ids)


def user(name: str, email: str | None = None) -> dict[str, Any]:
    """A valid user (the validator accepts it), with a fresh random email unless one is given."""
    return new_user(email or f"{secrets.token_hex(6)}@example.test", name)


def assert_expected_indexes(db: Database[Any]) -> None:
    info = db.users.index_information()
    assert "uq_users_email" in info, f"no index named uq_users_email (indexes: {sorted(info)})"
    email = info["uq_users_email"]
    assert email["key"] == [("email", 1)], f"uq_users_email is on {email['key']}, not email"
    assert email.get("unique") is True, "uq_users_email is not unique: two users can share an email"
    collation = dict(email.get("collation") or {})
    assert (collation.get("locale"), collation.get("strength")) == ("en", 2), (
        f"uq_users_email needs the case-insensitive collation EMAIL_COLLATION, has {collation or None}"
    )
    assert "ix_users_status_created" in info, (
        f"no index named ix_users_status_created (indexes: {sorted(info)})"
    )
    key = info["ix_users_status_created"]["key"]
    assert key == [("status", 1), ("createdAt", -1)], (
        f"ix_users_status_created is on {key}: the query filters on status and sorts createdAt "
        "newest first, so (status ascending, createdAt descending)"
    )


def assert_validator_command(command: str, document: Any) -> None:
    assert document is not None, f"{command} was sent without a validator"
    got = dict(document)
    assert got == VALIDATOR, (
        f"{command} carried the validator {got}, not {{'$jsonSchema': USER_SCHEMA}}"
    )


def test_a_new_collection_is_created_with_the_validator(
    exercise: ModuleType, listened: tuple[Database[Any], Commands]
) -> None:
    """On an empty database, `users` is created by a `create` command that carries the validator
    {"$jsonSchema": USER_SCHEMA} with validationLevel "strict" and validationAction "error" — a
    collection created bare (or implicitly by an insert or an index) has no validator at all."""
    db, commands = listened
    exercise.setup_users_collection(db)
    creates = [e.command for e in commands.sent if e.command_name == "create"]
    assert creates, f"no create command was sent (sent: {commands.names()})"
    assert_validator_command("create", creates[-1].get("validator"))
    assert creates[-1].get("validationLevel", "strict") == "strict"
    assert creates[-1].get("validationAction", "error") == "error"


def test_a_new_collection_gets_both_indexes(
    exercise: ModuleType, listened: tuple[Database[Any], Commands]
) -> None:
    """listIndexes shows uq_users_email (email, unique, collation en/strength 2) and
    ix_users_status_created (status 1, createdAt -1), and nothing else besides _id_."""
    db, _ = listened
    exercise.setup_users_collection(db)
    assert_expected_indexes(db)
    assert set(db.users.index_information()) == {
        "_id_",
        "uq_users_email",
        "ix_users_status_created",
    }


def test_running_it_again_fails_nothing_and_changes_nothing(
    exercise: ModuleType, listened: tuple[Database[Any], Commands]
) -> None:
    """Every deploy runs the setup: the second and third runs must not raise (a bare create fails
    once the collection exists), drop nothing, and leave the same indexes."""
    db, commands = listened
    exercise.setup_users_collection(db)
    first = db.users.index_information()
    db.users.insert_one(user("Kept"))
    exercise.setup_users_collection(db)
    exercise.setup_users_collection(db)
    assert db.users.index_information() == first
    assert db.users.count_documents({}) == 1, "the document written between runs is gone"
    dropped = sorted(set(commands.names()) & DROPS)
    assert not dropped, f"the setup sent {dropped}: it must never remove data or indexes"


def test_an_old_collection_is_upgraded_in_place(
    exercise: ModuleType, mongo_db: Database[Any], listened: tuple[Database[Any], Commands]
) -> None:
    """A collection an earlier release created with an OLD validator and without
    ix_users_status_created gets the current validator through `collMod` (not by dropping and
    re-creating it: its users must all survive) and gets the missing index."""
    ids = seed_old_release(mongo_db)
    db, commands = listened
    exercise.setup_users_collection(db)
    dropped = sorted(set(commands.names()) & DROPS)
    assert not dropped, f"the setup sent {dropped}: an upgrade must keep the data"
    assert {doc["_id"] for doc in mongo_db.users.find({}, {"_id": 1})} == ids, (
        "the users stored before the upgrade are not all there any more"
    )
    mods = [validator for name, validator in commands.validators() if name == "collMod"]
    assert mods, (
        "no collMod was sent for the existing collection: it keeps the OLD validator "
        f"(sent: {commands.names()})"
    )
    assert_validator_command("collMod", mods[-1])
    assert_expected_indexes(mongo_db)


def test_another_deployer_creating_it_first_is_not_an_error(
    exercise: ModuleType, mongo_db: Database[Any], listened: tuple[Database[Any], Commands]
) -> None:
    """Another deployer (still on the OLD release) creates `users` after your code looked but before
    your create arrives. Your setup must not fail (pymongo's create_collection checks with
    listCollections first, then the server answers NamespaceExists, code 48) and must still put the
    current validator on the collection with collMod, then build the indexes."""
    db, commands = listened
    raced: list[bool] = []

    def other_deployer_first(event: monitoring.CommandStartedEvent) -> None:
        if event.command_name == "create" and event.command.get("create") == "users" and not raced:
            raced.append(True)
            mongo_db.create_collection("users", validator=OLD_VALIDATOR)

    commands.before = other_deployer_first
    exercise.setup_users_collection(db)
    assert raced, f"no create command was sent (sent: {commands.names()})"
    sent = commands.validators()
    assert sent[-1][0] == "collMod", (
        f"after the other deployer created the collection, no collMod followed (sent: {sent}): "
        "it keeps the other deployer's OLD validator"
    )
    assert_validator_command("collMod", sent[-1][1])
    assert_expected_indexes(mongo_db)


@pytest.mark.genuine_mongodb(
    reason="eight simultaneous creates of one collection: mongo-java-server can fail a losing "
    "create with an internal error (a duplicate in its system.namespaces) instead of NamespaceExists"
)
def test_concurrent_deployers_all_succeed(
    exercise: ModuleType, listened: tuple[Database[Any], Commands]
) -> None:
    """Eight deployers (threads) run the setup at once on an empty database; their create commands
    are held until all eight have sent one, so exactly one wins. None of the eight may raise, and
    the collection ends with both indexes."""
    db, commands = listened
    together = threading.Barrier(DEPLOYERS)

    def hold_creates(event: monitoring.CommandStartedEvent) -> None:
        if event.command_name == "create" and event.command.get("create") == "users":
            # Bounded: a setup that never sends create from every thread is not held forever.
            with contextlib.suppress(threading.BrokenBarrierError):
                together.wait(timeout=20)

    commands.before = hold_creates
    errors: list[Exception] = []

    def deploy() -> None:
        try:
            exercise.setup_users_collection(db)
        except Exception as error:  # noqa: BLE001 - every deployer's failure is reported below
            errors.append(error)

    threads = [threading.Thread(target=deploy) for _ in range(DEPLOYERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors and all(isinstance(error, NotImplementedError) for error in errors):
        raise errors[0]
    assert not errors, (
        f"{len(errors)} of {DEPLOYERS} concurrent deployers failed: "
        f"{sorted({f'{type(e).__name__}: {e}'[:160] for e in errors})}"
    )
    assert_expected_indexes(db)


def test_the_unique_email_index_refuses_a_duplicate(
    exercise: ModuleType, listened: tuple[Database[Any], Commands]
) -> None:
    """After setup, a second user with the same email is refused by the server
    (DuplicateKeyError): uniqueness is the index's job, not a check in the app."""
    db, _ = listened
    exercise.setup_users_collection(db)
    email = f"{secrets.token_hex(6)}@example.test"
    db.users.insert_one(user("First", email))
    with pytest.raises(DuplicateKeyError):
        db.users.insert_one(user("Second", email))


def test_existing_duplicates_make_the_setup_fail_loudly(
    exercise: ModuleType, mongo_db: Database[Any], listened: tuple[Database[Any], Commands]
) -> None:
    """If two stored users already share an email, the unique index cannot be built, and the setup
    must raise DuplicateKeyError — the guide's autoIndex swallowed exactly this, and the app then ran
    without its unique index."""
    email = f"{secrets.token_hex(6)}@example.test"
    mongo_db.users.insert_many([user("One", email), user("Two", email)])
    db, _ = listened
    with pytest.raises(DuplicateKeyError):
        exercise.setup_users_collection(db)


@pytest.mark.genuine_mongodb(reason="$jsonSchema validators are stored and enforced")
def test_genuine_mongodb_keeps_and_enforces_the_upgraded_validator(
    exercise: ModuleType, mongo_db: Database[Any]
) -> None:
    """On genuine MongoDB, after upgrading an old collection, listCollections shows the current
    validator, and a user without a name is refused with WriteError code 121."""
    seed_old_release(mongo_db)
    exercise.setup_users_collection(mongo_db)
    (info,) = mongo_db.list_collections(filter={"name": "users"})
    assert dict(info["options"].get("validator") or {}) == VALIDATOR
    nameless = user("placeholder")
    del nameless["name"]
    with pytest.raises(WriteError) as refused:
        mongo_db.users.insert_one(nameless)
    assert refused.value.code == DOCUMENT_FAILED_VALIDATION


@pytest.mark.genuine_mongodb(reason="unique indexes honour their collation")
def test_genuine_mongodb_refuses_an_email_differing_only_in_case(
    exercise: ModuleType, mongo_db: Database[Any]
) -> None:
    """On genuine MongoDB the collation makes A@x after a@x a duplicate."""
    exercise.setup_users_collection(mongo_db)
    mongo_db.users.insert_one(user("Ann", "ann@example.test"))
    with pytest.raises(DuplicateKeyError):
        mongo_db.users.insert_one(user("Ann", "ANN@example.test"))
