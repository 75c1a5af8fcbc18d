"""The guide's Mongoose ``User`` model and ``User.aggregate([...])`` (데이터베이스 패턴 → NoSQL),
ported to pymongo. Defects kept on purpose; each has a test in ``tests/databases/test_mongo_*.py``
and a fix in ``reference/databases/mongo/``.

- Validation lives in the app (:func:`create_user` does what Mongoose's ``required``/``minlength``/
  ``lowercase`` do); the collection has no validator, so any other writer stores anything.
- ``unique: true`` is only an index that autoIndex builds in the background; a failed build is an
  ``'error'`` event nobody listens to (:func:`ensure_indexes` swallows it the same way).
- Email uniqueness is case-sensitive in the database (only the ``lowercase`` setter normalises).
- ``status`` has its own index *and* is the prefix of ``(status, createdAt)``: a redundant index.
- ``profile.bio`` is unbounded.
- The aggregation sums every order status, groups by the user's signup month in UTC, embeds every
  order through ``$lookup``, and ``$limit 12`` hides months with no row.
- :func:`find_user_by_email` is the lookup the model invites (``User.findOne({ email:
  req.body.email })``): without mongoSanitize, ``{"$ne": null}`` as the email matches any user.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.database import Database
from pymongo.errors import PyMongoError

STATUSES = ("active", "inactive", "suspended")

# userSchema fields with `index: true` / `unique: true`, plus userSchema.index(...) calls.
INDEXES = [
    IndexModel([("email", ASCENDING)], unique=True),
    IndexModel([("status", ASCENDING)]),
    IndexModel([("tags", ASCENDING)]),
    IndexModel([("status", ASCENDING), ("createdAt", DESCENDING)]),
    IndexModel([("profile.bio", "text"), ("name", "text")]),
]

USER_STATS_PIPELINE: list[dict[str, Any]] = [
    {"$match": {"status": "active"}},
    {"$lookup": {"from": "orders", "localField": "_id", "foreignField": "userId", "as": "orders"}},
    {
        "$addFields": {
            "orderCount": {"$size": "$orders"},
            "totalSpent": {"$sum": "$orders.totalAmount"},
        }
    },
    {
        "$group": {
            "_id": {"year": {"$year": "$createdAt"}, "month": {"$month": "$createdAt"}},
            "userCount": {"$sum": 1},
            "totalRevenue": {"$sum": "$totalSpent"},
        }
    },
    {"$sort": {"_id.year": -1, "_id.month": -1}},
    {"$limit": 12},
]


def ensure_indexes(db: Database[Any]) -> list[str]:
    """Mongoose autoIndex: build each index; a failure is an event, not an error for the caller."""
    built = []
    for index in INDEXES:
        # model.on('index', err => ...) — nobody subscribed
        with contextlib.suppress(PyMongoError):
            built += db.users.create_indexes([index])
    return built


def create_user(db: Database[Any], data: dict[str, Any]) -> Any:
    """``new User(data).save()``: Mongoose's app-side casting and validation, then insert."""
    email, name = data.get("email"), data.get("name")
    if not isinstance(email, str) or not email:
        raise ValueError("Path `email` is required.")
    if not isinstance(name, str) or not 2 <= len(name) <= 100:
        raise ValueError("Path `name` is invalid.")
    status = data.get("status", "active")
    if status not in STATUSES:
        raise ValueError(f"`{status}` is not a valid enum value for path `status`.")
    now = datetime.now(UTC)
    doc = {
        "email": email.lower(),  # lowercase: true
        "name": name,
        "status": status,
        "profile": {"bio": data.get("profile", {}).get("bio")},  # bio: String — any length
        "tags": list(data.get("tags", [])),
        "createdAt": data.get("createdAt", now),  # timestamps: true
        "updatedAt": now,
    }
    return db.users.insert_one(doc).inserted_id


def find_user_by_email(db: Database[Any], email: Any) -> dict[str, Any] | None:
    """``User.findOne({ email: req.body.email })`` — the body's value goes into the filter as is."""
    found: dict[str, Any] | None = db.users.find_one({"email": email})
    return found


def user_stats(db: Database[Any]) -> list[dict[str, Any]]:
    """``User.aggregate([...])`` exactly as the guide wrote it."""
    return list(db.users.aggregate(USER_STATS_PIPELINE))
