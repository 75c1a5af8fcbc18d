"""Decoy for 02.9: drop the collection and create it afresh on every run, so the validator and indexes
are always current — and every stored user is deleted. Caught by the run-twice and upgrade tests (a
drop is sent, the seeded users are gone).

Caught by test_running_it_again_fails_nothing_and_changes_nothing.
"""

from __future__ import annotations

from typing import Any, Final

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.database import Database

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
    db.drop_collection(USERS)
    db.create_collection(USERS, **OPTIONS)
    db[USERS].create_indexes(INDEXES)
