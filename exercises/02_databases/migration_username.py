"""Taught in notebooks/02_databases_postgres.ipynb §1.

Exercise 02.2: migration 0004 — give users a username.

Product wants public profile URLs (``/u/<username>``). Write the Alembic migration that adds it to the
course schema, which is at revision 0003 (``reference/databases/migrations``). The rules:

- ``users.username``: up to 40 characters, and **nullable** — the users who already exist have none
  yet, and the migration must succeed on a table full of them;
- when set, 3–40 characters of letters, digits and ``_`` only (a CHECK constraint named
  ``ck_users_username_format``);
- unique **case-insensitively**: ``Bob`` and ``bob`` are the same profile URL;
- fast lookup by ``lower(username)``, and no index that another one makes redundant;
- ``downgrade()`` undoes all of it, so upgrade → downgrade → upgrade works.

The guide's migration shows the traps: ``UNIQUE`` on the raw column is case-sensitive, and an extra
plain index on a column that is already unique is pure write cost.

Use ``op`` as in any Alembic migration (``op.add_column``, ``op.create_index``,
``op.create_check_constraint``, ``op.execute`` …); the grader runs ``upgrade()`` and ``downgrade()``
on a real database and inspects the catalog.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401, RUF100 - for your solution
from alembic import op  # noqa: F401, RUF100 - for your solution

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add users.username with its format check and case-insensitive uniqueness."""
    # TODO: add the column, its format check and what enforces case-insensitive uniqueness.
    raise NotImplementedError


def downgrade() -> None:
    """Remove everything upgrade() added."""
    # TODO: undo upgrade(), leaving the schema exactly as revision 0003 made it.
    raise NotImplementedError
