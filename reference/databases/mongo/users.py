"""The users collection, set up by the database rather than trusted to the app (guide's Mongoose model).

The guide's Mongoose schema validated in the application only: any other writer (a script, another
service, an ``updateOne`` — Mongoose skips update validators by default) could store a user without a
name. Its ``unique: true`` was only an index built by autoIndex in the background, whose failure is an
event nobody listens to; its email uniqueness relied on a ``lowercase`` setter; its single ``status``
index was a redundant prefix of ``(status, createdAt)``; and ``bio`` was unbounded.

:func:`ensure_user_collection` fixes each, idempotently:

- a ``$jsonSchema`` validator (``validationAction: error``): a document without ``name`` is refused by
  the server with ``WriteError`` code 121, whoever writes it;
- a unique email index with a case-insensitive collation (``strength: 2``): ``A@x`` after ``a@x``
  is a duplicate. Queries must pass the same collation to use it — :func:`find_user_by_email` does;
- ``(status, createdAt)`` and ``tags`` indexes, no single ``status`` index;
- index builds run in the foreground of the call, so a build failure (existing duplicates) raises.

:func:`find_user_by_email` refuses anything but a string (``{"$ne": null}`` from a JSON body would
match the first user: operator injection).

mongo-java-server (the course's native stand-in) accepts validators and collations but enforces
neither; :class:`SetupReport` says so instead of hiding it, and :func:`insert_user` checks the same
rules in the application before the write (for writes that go through it). Taught in
``notebooks/02_databases_mongodb.ipynb``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.collation import Collation, CollationStrength
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import OperationFailure

from reference.databases.mongo.validation import schema_violations

USERS: Final = "users"
STATUSES: Final = ("active", "inactive", "suspended")
BIO_MAX_LENGTH: Final = 500

EMAIL_COLLATION: Final = Collation(locale="en", strength=CollationStrength.SECONDARY)
"""Case-insensitive comparison (strength 2 ignores case, not accents): the email index's collation."""

USER_SCHEMA: Final[dict[str, Any]] = {
    "bsonType": "object",
    "required": ["email", "name", "status", "tags", "createdAt", "updatedAt"],
    "additionalProperties": False,
    "properties": {
        "_id": {"bsonType": "objectId"},
        "email": {
            "bsonType": "string",
            "maxLength": 320,
            "pattern": r"^[^@\s]+@[^@\s]+$",
            "description": "an address with one @, compared case-insensitively",
        },
        "name": {"bsonType": "string", "minLength": 2, "maxLength": 100},
        "status": {"enum": list(STATUSES)},
        "profile": {
            "bsonType": "object",
            "additionalProperties": False,
            "properties": {
                "bio": {"bsonType": "string", "maxLength": BIO_MAX_LENGTH},
                "avatar": {"bsonType": "string", "maxLength": 2048},
            },
        },
        "tags": {
            "bsonType": "array",
            "maxItems": 20,
            "items": {"bsonType": "string", "minLength": 1, "maxLength": 40},
        },
        "createdAt": {"bsonType": "date"},
        "updatedAt": {"bsonType": "date"},
    },
}

USER_INDEXES: Final = [
    IndexModel(
        [("email", ASCENDING)], name="uq_users_email", unique=True, collation=EMAIL_COLLATION
    ),
    # Serves `status = ?` alone too (left prefix), so no separate status index.
    IndexModel([("status", ASCENDING), ("createdAt", DESCENDING)], name="ix_users_status_created"),
    IndexModel([("tags", ASCENDING)], name="ix_users_tags"),
]

_NAMESPACE_EXISTS: Final = 48
_COMMAND_NOT_FOUND: Final = 59


class UnsafeQueryValueError(TypeError):
    """A query value that is not the plain type expected (e.g. ``{"$ne": None}`` as an email)."""


class UserValidationError(ValueError):
    """A user document that breaks :data:`USER_SCHEMA`; ``violations`` lists each rule broken."""

    def __init__(self, violations: list[str]) -> None:
        super().__init__("invalid user: " + "; ".join(violations))
        self.violations = violations


class DuplicateEmailError(ValueError):
    """Another user already has this email, ignoring case."""


@dataclass(frozen=True)
class SetupReport:
    """What :func:`ensure_user_collection` did and what the server actually keeps."""

    created: bool
    """The collection did not exist and was created."""
    validator_stored: bool
    """The server reports the ``$jsonSchema`` validator in the collection's options (it enforces
    it). ``False`` on mongo-java-server, which accepts validators and ignores them."""
    indexes: dict[str, Any]
    """``index_information()`` after setup."""


def _stored_validator(db: Database[Any], name: str) -> dict[str, Any] | None:
    for info in db.list_collections(filter={"name": name}):
        validator = info.get("options", {}).get("validator")
        return dict(validator) if validator else None
    return None


def ensure_user_collection(db: Database[Any], name: str = USERS) -> SetupReport:
    """Create or update the users collection: validator, then indexes. Safe to run any number of
    times, and by several deployers at once; running it twice leaves the same
    ``index_information()``.

    Raises ``pymongo.errors.DuplicateKeyError`` if existing documents already break the unique
    email index (the guide's autoIndex swallowed exactly this), and ``OperationFailure`` if an index
    of the same name exists with a different definition.
    """
    validator = {"$jsonSchema": USER_SCHEMA}
    created = name not in db.list_collection_names(filter={"name": name})
    if created:
        # Another deployer may create it between that check and this create: the server then
        # answers NamespaceExists (create_collection's own check_exists would be a second race).
        try:
            db.create_collection(
                name,
                check_exists=False,
                validator=validator,
                validationLevel="strict",
                validationAction="error",
            )
        except OperationFailure as error:
            if error.code != _NAMESPACE_EXISTS:
                raise
            created = False
    if not created and _stored_validator(db, name) != validator:
        try:
            db.command(
                "collMod",
                name,
                validator=validator,
                validationLevel="strict",
                validationAction="error",
            )
        except OperationFailure as error:
            if error.code != _COMMAND_NOT_FOUND:  # the compatible server has no collMod
                raise
    collection = db[name]
    collection.create_indexes(USER_INDEXES)
    return SetupReport(
        created=created,
        validator_stored=_stored_validator(db, name) == validator,
        indexes=dict(collection.index_information()),
    )


def new_user(
    email: str,
    name: str,
    *,
    status: str = "active",
    bio: str | None = None,
    tags: list[str] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """A user document shaped as the validator expects (timestamps in UTC)."""
    stamp = now or datetime.now(UTC)
    doc: dict[str, Any] = {
        "email": email,
        "name": name,
        "status": status,
        "tags": list(tags or []),
        "createdAt": stamp,
        "updatedAt": stamp,
    }
    if bio is not None:
        doc["profile"] = {"bio": bio}
    return doc


def insert_user(users: Collection[Any], document: dict[str, Any]) -> ObjectId:
    """Insert ``document`` after checking, in the application, the rules the server would enforce.

    Raises :class:`UserValidationError` if it breaks :data:`USER_SCHEMA` (the validator's own rules)
    and :class:`DuplicateEmailError` if another user has the email in any case — both before
    anything is written. For servers that do not enforce validators or collations
    (mongo-java-server). The duplicate check is a read before the write: two concurrent inserts can
    both pass it; only the server's case-insensitive unique index closes that race.
    """
    violations = schema_violations(document, USER_SCHEMA)
    if violations:
        raise UserValidationError(violations)
    email = document["email"]
    # An anchored, escaped, case-insensitive regex: the collation's comparison, which the
    # compatible server ignores in queries too.
    same = {"email": {"$regex": f"^{re.escape(email)}$", "$options": "i"}}
    if users.find_one(same, projection={"_id": 1}) is not None:
        raise DuplicateEmailError(f"a user with email {email!r} (ignoring case) already exists")
    inserted: ObjectId = users.insert_one(document).inserted_id
    return inserted


def _require_str(field: str, value: object) -> str:
    if not isinstance(value, str):
        raise UnsafeQueryValueError(
            f"{field} must be a string, got {type(value).__name__}: "
            "query operators are not accepted from input"
        )
    return value


def find_user_by_email(users: Collection[Any], email: object) -> dict[str, Any] | None:
    """The user with this email (any case), or ``None``.

    ``email`` comes from outside (a JSON body, a query string): anything but a ``str`` raises
    :class:`UnsafeQueryValueError`, so ``{"$ne": null}`` cannot turn the lookup into "any user". The
    query passes :data:`EMAIL_COLLATION` so it matches case-insensitively and can use the index.
    """
    value = _require_str("email", email)
    found: dict[str, Any] | None = users.find_one({"email": value}, collation=EMAIL_COLLATION)
    return found
