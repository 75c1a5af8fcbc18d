"""The SQL behind the gRPC user service (sync SQLAlchemy Core, one statement per method).

Pattern: a repository that takes the caller's connection, so the servicer decides the transaction
and its timeout. Duplicate emails are detected by the unique index (``uq_users_email_lower``) and
raised as :class:`~reference.api_design.grpc.errors.AlreadyExists`. ``create`` announces the new
user with ``pg_notify`` in the same transaction, so stream listeners only hear about committed
rows. Taught in ``notebooks/01_api_design_grpc.ipynb``.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, insert, select, tuple_
from sqlalchemy.exc import IntegrityError

from reference.api_design.graphql.cursors import Keyset
from reference.api_design.grpc.errors import AlreadyExists
from reference.databases.models import User, UserStatus

USER_UPDATES_CHANNEL = "user_updates"
UNIQUE_VIOLATION = "23505"


@dataclass(frozen=True)
class UserRecord:
    id: uuid.UUID
    email: str
    name: str
    status: UserStatus
    created_at: datetime

    def to_json(self, kind: str) -> str:
        return json.dumps(
            {
                "kind": kind,
                "id": str(self.id),
                "email": self.email,
                "name": self.name,
                "status": self.status.value,
                "created_at": self.created_at.isoformat(),
            }
        )

    @classmethod
    def from_json(cls, payload: str) -> tuple[str, UserRecord]:
        data = json.loads(payload)
        return data["kind"], cls(
            id=uuid.UUID(data["id"]),
            email=data["email"],
            name=data["name"],
            status=UserStatus(data["status"]),
            created_at=datetime.fromisoformat(data["created_at"]),
        )


_COLUMNS = (User.id, User.email, User.name, User.status, User.created_at)


class UserRepository:
    """Reads and writes of ``users`` for the gRPC servicer."""

    def get(self, conn: Connection, user_id: uuid.UUID) -> UserRecord | None:
        row = conn.execute(select(*_COLUMNS).where(User.id == user_id)).one_or_none()
        return UserRecord(*row) if row is not None else None

    def list_page(self, conn: Connection, limit: int, after: Keyset | None) -> list[UserRecord]:
        query = select(*_COLUMNS).order_by(User.created_at, User.id).limit(limit)
        if after is not None:
            query = query.where(
                tuple_(User.created_at, User.id) > tuple_(after.created_at, after.id)
            )
        return [UserRecord(*row) for row in conn.execute(query)]

    def create(self, conn: Connection, email: str, name: str, password_hash: str) -> UserRecord:
        try:
            with conn.begin_nested():
                row = conn.execute(
                    insert(User)
                    .values(email=email, name=name, password_hash=password_hash)
                    .returning(*_COLUMNS)
                ).one()
        except IntegrityError as exc:
            if getattr(exc.orig, "sqlstate", None) == UNIQUE_VIOLATION:
                raise AlreadyExists("a user with this email already exists") from None
            raise
        record = UserRecord(*row)
        publish_user_update(conn, record, "created")
        return record


def publish_user_update(conn: Connection, record: UserRecord, kind: str) -> None:
    """Tell ``StreamUserUpdates`` listeners about ``record`` once the transaction commits."""
    conn.execute(select(func.pg_notify(USER_UPDATES_CHANNEL, record.to_json(kind))))
