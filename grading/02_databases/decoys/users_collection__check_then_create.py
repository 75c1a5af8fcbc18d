"""Decoy for 02.9: pymongo's create_collection with its default check_exists=True, and collMod when it
raises CollectionInvalid — right when run twice, but the check (listCollections) and the create are
two commands: a deployer that creates the collection in between makes create fail with code 48,
which escapes. Caught by the other-deployer-first and concurrent-deployers tests.

Caught by test_another_deployer_creating_it_first_is_not_an_error.
"""

from __future__ import annotations

from typing import Any, Final

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.database import Database
from pymongo.errors import CollectionInvalid, OperationFailure

from reference.databases.mongo import EMAIL_COLLATION, USER_SCHEMA

USERS: Final = "users"
OPTIONS: Final[dict[str, Any]] = {
    "validator": {"$jsonSchema": USER_SCHEMA},
    "validationLevel": "strict",
    "validationAction": "error",
}
INDEXES: Final = [
    IndexModel(
        [("email", ASCENDING)], name="uq_users_email", unique=True, collation=EMAIL_COLLATION
    ),
    IndexModel([("status", ASCENDING), ("createdAt", DESCENDING)], name="ix_users_status_created"),
]


def setup_users_collection(db: Database[Any]) -> None:
    try:
        db.create_collection(USERS, **OPTIONS)
    except CollectionInvalid:
        try:
            db.command("collMod", USERS, **OPTIONS)
        except OperationFailure as error:
            if error.code != 59:
                raise
    db[USERS].create_indexes(INDEXES)
