"""Decoy for 02.9: everything right except the email index, built with create_index but without
unique=True — a plain index that lets two users share an email. Caught by the index test and by the
duplicate-refused test.

Caught by test_a_new_collection_gets_both_indexes.
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
        try:
            db.command("collMod", USERS, **OPTIONS)
        except OperationFailure as error:
            if error.code != 59:
                raise
    db[USERS].create_index("email", name="uq_users_email", collation=EMAIL_COLLATION)
    db[USERS].create_index(
        [("status", ASCENDING), ("createdAt", DESCENDING)], name="ix_users_status_created"
    )
