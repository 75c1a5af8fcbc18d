"""Full-text search over users' names and bios — needs genuine MongoDB.

The guide declared ``userSchema.index({ 'profile.bio': 'text', name: 'text' })``. ``$text`` queries
need a real ``mongod``: mongo-java-server (the course's native stand-in) creates the index but rejects
``$text``. The tests for this module are marked ``genuine_mongodb`` and run with
``docker compose up mongo``. Taught (in prose) in ``notebooks/02_databases_mongodb.ipynb``.
"""

from __future__ import annotations

from typing import Any, Final

from pymongo import IndexModel
from pymongo.collection import Collection

TEXT_INDEX: Final = IndexModel(
    [("name", "text"), ("profile.bio", "text")],
    name="tx_users_name_bio",
    weights={"name": 5, "profile.bio": 1},
    default_language="english",
)


def ensure_text_index(users: Collection[Any]) -> None:
    """Create the text index (idempotent)."""
    users.create_indexes([TEXT_INDEX])


def search_users(users: Collection[Any], query: object, *, limit: int = 20) -> list[dict[str, Any]]:
    """Users matching ``query`` by relevance (name counts five times a bio), at most ``limit``."""
    if not isinstance(query, str) or not query.strip():
        raise ValueError("query must be a non-empty string")
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 100:
        raise ValueError("limit must be between 1 and 100")
    cursor = (
        users.find(
            {"$text": {"$search": query}},
            {"score": {"$meta": "textScore"}, "email": 1, "name": 1},
        )
        .sort([("score", {"$meta": "textScore"})])
        .limit(limit)
    )
    return list(cursor)
