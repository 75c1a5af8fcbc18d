"""Deterministic demo data: users with orders, for tests, the notebook and the benchmark.

Pattern: set-based seeding — one ``INSERT … SELECT generate_series`` per table instead of a row per
round trip. Row ``n`` always gets the same email, name, creation time and totals, so printed facts
in notebooks are stable across runs. Used by ``notebooks/01_api_design_graphql.ipynb`` and
``notebooks/01_api_design_grpc.ipynb``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import psycopg

# Not a real password's hash; seeded users cannot sign in with a password.
PLACEHOLDER_HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2VlZA$c2VlZGVkLXVzZXItbm8tcGFzc3dvcmQ"


@dataclass(frozen=True)
class Seeded:
    admin_id: uuid.UUID
    user_ids: list[uuid.UUID]  # regular users, oldest first (the admin is not among them)


def seed_users_with_orders(database_url: str, users: int, orders_per_user: int) -> Seeded:
    """Insert one admin plus ``users`` users with ``orders_per_user`` orders each."""
    with psycopg.connect(database_url) as conn:
        admin_row = conn.execute(
            "INSERT INTO users (email, name, password_hash, role, created_at)"
            " VALUES ('admin@example.com', 'Admin', %s, 'admin', '2024-01-01T00:00:00Z')"
            " RETURNING id",
            (PLACEHOLDER_HASH,),
        ).fetchone()
        assert admin_row is not None
        rows = conn.execute(
            "INSERT INTO users (email, name, password_hash, created_at)"
            " SELECT format('user%%s@example.com', lpad(n::text, 4, '0')),"
            "        format('User %%s', n), %s,"
            "        timestamptz '2024-02-01T00:00:00Z' + n * interval '1 minute'"
            " FROM generate_series(1, %s) AS n"
            " RETURNING id, created_at",
            (PLACEHOLDER_HASH, users),
        ).fetchall()
        user_ids = [row[0] for row in sorted(rows, key=lambda r: r[1])]
        conn.execute(
            "INSERT INTO orders (user_id, status, total_cents, created_at)"
            " SELECT u.id,"
            "        (ARRAY['pending','paid','shipped','delivered']::order_status[])[1 + k %% 4],"
            "        1000 + k * 100, u.created_at + k * interval '1 hour'"
            " FROM users u CROSS JOIN generate_series(1, %s) AS k"
            " WHERE u.role = 'user'",
            (orders_per_user,),
        )
    return Seeded(admin_id=admin_row[0], user_ids=user_ids)
