"""Taught in notebooks/02_databases_orm.ipynb §1.

Exercise 02.4: the orders model that matches the migrations — ``alembic check`` clean.

The guide kept a Prisma schema beside its SQL, and the two disagreed: enum members stored by *name*
(``'PAID'``) where the SQL type holds ``'paid'``, text ids against UUID columns, naive timestamps,
indexes the database has and the model never mentions. Tests and tools that build the schema from
such a model (``metadata.create_all``) then test a different database from the one production runs.

Write ``orders_table``: define the ``orders`` table on ``metadata`` exactly as migrations 0001–0003
(``reference/databases/migrations/versions``) create it, and return it. Exactly means:

- every column with its type (UUID, BIGINT, ``timestamp with time zone`` …), nullability and server
  default (``gen_random_uuid()``, ``'pending'``, ``now()``);
- ``status`` as the PostgreSQL enum ``order_status`` (one ``create_all`` can create), storing the
  *values* of ``OrderStatus`` below (``'paid'``, not ``'PAID'``);
- the constraints: primary key ``pk_orders`` and foreign key ``fk_orders_user_id_users`` to
  ``users.id`` with ``ON DELETE CASCADE`` (named as the migrations name them), and the check
  ``total_cents >= 0``;
- all three indexes, with their names, columns and (for the partial one) ``WHERE`` clause.

``metadata`` already holds a ``users`` table (its ``id`` column) for the foreign key to refer to.
A ``Table(...)`` does, and so does a declarative ``Order`` whose base uses this metadata
(``shared = metadata``, then ``class Base(DeclarativeBase): metadata = shared``; return
``Order.__table__``). The grader compares your table with a migrated database
the way ``alembic check`` does, then builds a schema from it with ``create_all`` and compares that
one's catalog (indexes, constraints, enum labels) and behaviour with the migrated one.
"""

from __future__ import annotations

import enum

import sqlalchemy as sa  # noqa: F401, RUF100 - for your solution
from sqlalchemy import MetaData, Table
from sqlalchemy.dialects import postgresql  # noqa: F401, RUF100 - for your solution


class OrderStatus(enum.StrEnum):
    """The order states; PostgreSQL's ``order_status`` enum holds their values."""

    PENDING = "pending"
    PAID = "paid"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


def orders_table(metadata: MetaData) -> Table:
    """Define ``orders`` on ``metadata`` exactly as migrations 0001–0003 create it; return it."""
    # TODO: the six columns (types, nullability, server defaults, the order_status enum by value),
    # the primary key, the foreign key (ON DELETE CASCADE), the check, and the three indexes of
    # 0001 and 0003.
    raise NotImplementedError
