"""Alembic environment: run migrations on a connection handed over by ``migrate.py`` or on a URL.

``reference.databases.migrate`` passes an open connection in
``config.attributes["connection"]``; the ``alembic`` command line
(``uv run alembic -c reference/databases/alembic.ini upgrade head``) uses ``sqlalchemy.url``
from the ini file or, when that is empty, ``DATABASE_URL`` from the course settings.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine, pool

from reference.config import get_settings, to_sqlalchemy_url
from reference.databases.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        compare_server_default=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or get_settings().database_url
    engine = create_engine(to_sqlalchemy_url(url), poolclass=pool.NullPool)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def run_migrations_offline() -> None:
    url = config.get_main_option("sqlalchemy.url") or get_settings().database_url
    context.configure(
        url=to_sqlalchemy_url(url), target_metadata=target_metadata, literal_binds=True
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
