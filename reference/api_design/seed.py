"""Seed data for the users API: a few role-holding users with bearer tokens, and bulk rows.

Used by the tests, the notebook, the benchmark and the graders, so each starts from the same
known state: ``admin``, ``manager``, ``alice`` and ``bob`` (plain users), each with a static token
(``"<name>-token"``), plus ``count`` filler users inserted in one statement — they share one
``created_at``, which is exactly the tie a paginator must break by id. Taught in
``notebooks/01_api_design_rest.ipynb``.
"""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher, profiles
from sqlalchemy import Engine, create_engine, insert, select

from reference.api_design.auth import Principal, StaticTokens
from reference.config import to_sqlalchemy_url
from reference.databases.models import User, UserRole

# One hash for every seeded row: seeding 57 users must not cost 57 full Argon2 runs.
CHEAP_HASHER = PasswordHasher.from_parameters(profiles.CHEAPEST)
SEED_PASSWORD = "correct horse battery staple"  # noqa: S105 - seed data, documented

CAST: dict[str, UserRole] = {
    "admin": UserRole.ADMIN,
    "manager": UserRole.MANAGER,
    "alice": UserRole.USER,
    "bob": UserRole.USER,
}


@dataclass(frozen=True)
class Cast:
    """The seeded principals and the bearer tokens that authenticate them."""

    principals: dict[str, Principal]

    def token(self, name: str) -> str:
        return f"{name}-token"

    def headers(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(name)}"}

    @property
    def authenticator(self) -> StaticTokens:
        return StaticTokens({self.token(n): p for n, p in self.principals.items()})


def _engine(database_url: str) -> Engine:
    return create_engine(to_sqlalchemy_url(database_url))


def seed_cast(database_url: str) -> Cast:
    """Insert admin, manager, alice and bob (``<name>@example.com``); return their principals."""
    engine = _engine(database_url)
    password_hash = CHEAP_HASHER.hash(SEED_PASSWORD)
    try:
        with engine.begin() as connection:
            rows = connection.execute(
                insert(User).returning(User.id, User.name),
                [
                    {
                        "email": f"{name}@example.com",
                        "name": name,
                        "role": role,
                        "password_hash": password_hash,
                    }
                    for name, role in CAST.items()
                ],
            ).all()
    finally:
        engine.dispose()
    ids = {name: user_id for user_id, name in rows}
    return Cast({name: Principal(ids[name], role) for name, role in CAST.items()})


def seed_users(database_url: str, count: int, *, prefix: str = "user") -> int:
    """Insert ``count`` plain users in one statement (one shared ``created_at``); return the total."""
    engine = _engine(database_url)
    password_hash = CHEAP_HASHER.hash(SEED_PASSWORD)
    try:
        with engine.begin() as connection:
            if count:
                connection.execute(
                    insert(User),
                    [
                        {
                            "email": f"{prefix}{i:04d}@example.com",
                            "name": f"{prefix.title()} {i:04d}",
                            "password_hash": password_hash,
                        }
                        for i in range(count)
                    ],
                )
            total = len(connection.execute(select(User.id)).all())
    finally:
        engine.dispose()
    return total
