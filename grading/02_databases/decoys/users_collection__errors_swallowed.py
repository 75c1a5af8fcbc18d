"""Decoy for 02.9: "must not fail" met by swallowing every PyMongoError — the create that lost the race
(so no collMod follows) and a unique index build that failed on existing duplicates both pass silently,
as the guide's autoIndex did. Caught by the other-deployer-first and existing-duplicates tests.

Caught by test_an_old_collection_is_upgraded_in_place.
"""

from __future__ import annotations

import contextlib
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.database import Database
from pymongo.errors import PyMongoError

from reference.databases.mongo import EMAIL_COLLATION, USER_SCHEMA


def setup_users_collection(db: Database[Any]) -> None:
    with contextlib.suppress(PyMongoError):
        db.create_collection(
            "users",
            validator={"$jsonSchema": USER_SCHEMA},
            validationLevel="strict",
            validationAction="error",
        )
    with contextlib.suppress(PyMongoError):
        db.users.create_indexes(
            [
                IndexModel(
                    [("email", ASCENDING)],
                    name="uq_users_email",
                    unique=True,
                    collation=EMAIL_COLLATION,
                ),
                IndexModel(
                    [("status", ASCENDING), ("createdAt", DESCENDING)],
                    name="ix_users_status_created",
                ),
            ]
        )
