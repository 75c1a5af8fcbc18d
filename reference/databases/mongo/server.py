"""Which MongoDB are we talking to? Genuine MongoDB, or a wire-compatible stand-in server.

The course's native launcher runs mongo-java-server, which speaks the wire protocol but accepts and
silently ignores ``$jsonSchema`` validators and index collations, and has no ``$text``, TTL expiry or
transactions. Code that depends on those features asks :func:`is_genuine_mongodb` and says so,
instead of pretending. Taught in ``notebooks/02_databases_mongodb.ipynb``.
"""

from __future__ import annotations

from typing import Any

from pymongo.database import Database

from reference.setup.probes import is_genuine


def is_genuine_mongodb(db: Database[Any]) -> bool:
    """``True`` for a real ``mongod``; ``False`` for a compatible server. The course's one rule
    (:func:`reference.setup.probes.is_genuine`): genuine MongoDB reports ``gitVersion`` and no
    ``compatibleServer``."""
    return is_genuine(db.client.admin.command("buildInfo"))
