"""Decoy for 02.9: create the collection when it is missing and otherwise leave it alone — no collMod,
so a collection an earlier release created keeps its OLD validator. Caught by the upgrade test and the
other-deployer-first test (no collMod sent).

Caught by test_an_old_collection_is_upgraded_in_place.
"""

from __future__ import annotations

from typing import Any, Final

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.database import Database
from pymongo.errors import OperationFailure

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
        db.create_collection(USERS, check_exists=False, **OPTIONS)
    except OperationFailure as exists:
        if exists.code != 48:
            raise
    db[USERS].create_indexes(INDEXES)
