"""Decoy for 02.9, the guide's one-shot setup: create the collection with the validator, then build the
Mongoose model's indexes the way autoIndex does (guide.databases.mongo_user.ensure_indexes: its own
index set, no collation, build failures swallowed). The second run fails (the collection exists);
caught by the run-twice, index and existing-duplicates tests.

Caught by test_a_new_collection_gets_both_indexes.
"""

from __future__ import annotations

from typing import Any

from pymongo.database import Database

from guide.databases import mongo_user as guide
from reference.databases.mongo import USER_SCHEMA


def setup_users_collection(db: Database[Any]) -> None:
    db.create_collection("users", validator={"$jsonSchema": USER_SCHEMA})
    guide.ensure_indexes(db)
