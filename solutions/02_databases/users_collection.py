"""Taught in notebooks/02_databases_mongodb.ipynb §2.

Exercise 02.9: set up the ``users`` collection idempotently — validator and indexes — on every deploy.

The guide left this to Mongoose: validation in the application only, and indexes built in the
background whose failures nobody hears about. Write the setup every deploy runs before the app
starts. It must:

* create ``users`` with the validator ``{"$jsonSchema": USER_SCHEMA}`` (``validationLevel``
  ``"strict"``, ``validationAction`` ``"error"``);
* when ``users`` already exists — an earlier deploy made it, perhaps with an OLDER validator, or
  another deployer created it a moment ago — put the current validator on it with the ``collMod``
  command, keeping every document. Never drop the collection;
* create two indexes (the builds run inside your call, so a failure must raise — e.g. existing
  duplicate emails make the unique build fail with ``DuplicateKeyError``):

  - ``uq_users_email``: ``email`` ascending, **unique**, with the collation ``EMAIL_COLLATION``
    (case-insensitive: ``A@x.com`` after ``a@x.com`` is a duplicate);
  - ``ix_users_status_created``: ``status`` ascending then ``createdAt`` descending — it serves
    the app's "newest users with this status" query, ``find({"status": s}).sort("createdAt", -1)``;

* be safe to run again and again, and from several deployers at once (threads or processes): none
  of them may fail.

Checking "does it exist?" and then creating is a race: another deployer can create the collection in
between, and your ``create`` then fails. ``db.create_collection(name, …)`` checks first itself (it
sends ``listCollections`` before ``create``, and raises ``CollectionInvalid`` if it saw the
collection); with ``check_exists=False`` it just sends ``create``, and the server answers
``OperationFailure`` code 48 (NamespaceExists) when the collection is already there. The course's MongoDB-compatible server (mongo-java-server) has no ``collMod``
command: it answers ``OperationFailure`` with code 59 (CommandNotFound) — treat exactly that code as
"this server keeps no validators" and carry on; let every other error through. The grader records the
commands your client sends (``create``, ``collMod``, ``createIndexes``, any ``drop``) and reads the
indexes back, so it sees what you asked for even where that server ignores it.
"""

from __future__ import annotations

from typing import Any, Final

from pymongo import ASCENDING, DESCENDING, IndexModel  # noqa: F401, RUF100 - for your solution
from pymongo.database import Database
from pymongo.errors import OperationFailure  # noqa: F401, RUF100 - for your solution

from reference.databases.mongo import EMAIL_COLLATION, USER_SCHEMA  # noqa: F401, RUF100 - the rules

USERS: Final = "users"
NAMESPACE_EXISTS: Final = 48
"""The error code of ``create`` for a collection that exists."""
COMMAND_NOT_FOUND: Final = 59
"""The error code mongo-java-server answers ``collMod`` with."""


def setup_users_collection(db: Database[Any]) -> None:
    """Create or update ``db.users`` (validator, then the two indexes). Safe to run any number of
    times, concurrently."""
    options: dict[str, Any] = {
        "validator": {"$jsonSchema": USER_SCHEMA},
        "validationLevel": "strict",
        "validationAction": "error",
    }
    # Create first and handle "already exists", rather than checking first: between a check and
    # the create another deployer can win, and only the server decides who did.
    try:
        db.create_collection(USERS, check_exists=False, **options)
    except OperationFailure as exists:
        if exists.code != NAMESPACE_EXISTS:
            raise
        try:
            db.command("collMod", USERS, **options)
        except OperationFailure as error:
            if error.code != COMMAND_NOT_FOUND:
                raise
    # createIndexes is a no-op for an index that exists with the same definition, and raises on a
    # failed build (duplicates) or a same-named index defined differently.
    db[USERS].create_indexes(
        [
            IndexModel(
                [("email", ASCENDING)],
                name="uq_users_email",
                unique=True,
                collation=EMAIL_COLLATION,
            ),
            IndexModel(
                [("status", ASCENDING), ("createdAt", DESCENDING)], name="ix_users_status_created"
            ),
        ]
    )
