"""Apply, undo and verify the course schema's Alembic migrations from Python.

The pattern: the schema lives in versioned migrations (``reference/databases/migrations``), the
ORM models in ``models.py``, and :func:`check` compares the two the way ``alembic check`` does, so
they can never drift (the guide kept a Prisma schema and raw SQL that disagreed). Taught in
``notebooks/02_databases_postgres.ipynb`` and ``notebooks/02_databases_orm.ipynb``.

Every function takes a plain ``postgresql://`` URL (``DATABASE_URL``, ``pg_url`` in tests)::

    from reference.databases.migrate import upgrade
    upgrade(pg_url)            # create the schema at head
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, pool

from reference.config import to_sqlalchemy_url
from reference.databases.models import Base

PACKAGE_DIR = Path(__file__).resolve().parent
ALEMBIC_INI = PACKAGE_DIR / "alembic.ini"
SCRIPT_LOCATION = PACKAGE_DIR / "migrations"


def alembic_config() -> Config:
    """An Alembic config pointing at the package's migrations (no ini file on disk needed)."""
    config = Config(str(ALEMBIC_INI))
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    return config


def _run(database_url: str, action: str, revision: str) -> None:
    engine = create_engine(to_sqlalchemy_url(database_url), poolclass=pool.NullPool)
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            getattr(command, action)(config, revision)
    finally:
        engine.dispose()


def upgrade(database_url: str, revision: str = "head") -> None:
    """Migrate the database at ``database_url`` up to ``revision`` (default: the latest)."""
    _run(database_url, "upgrade", revision)


def downgrade(database_url: str, revision: str) -> None:
    """Migrate the database down to ``revision`` (``"base"`` removes the whole schema)."""
    _run(database_url, "downgrade", revision)


def head_revision() -> str:
    """The newest revision id in the migrations folder."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(database_url: str) -> str | None:
    """The revision the database is at (``None`` before the first upgrade)."""
    engine = create_engine(to_sqlalchemy_url(database_url), poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def check(database_url: str) -> list[Any]:
    """The differences between the migrated database and ``Base.metadata`` — ``[]`` means no drift.

    The same comparison ``alembic check`` makes (autogenerate), types and server defaults included.
    Upgrade the database to head first.
    """
    engine = create_engine(to_sqlalchemy_url(database_url), poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "compare_server_default": True}
            )
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()
