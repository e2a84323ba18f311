"""Alembic environment: every migration runs in one transaction holding the catalog write
lock, SQLite's foreign keys off meanwhile and checked before the commit
(``Dialect.migration_transaction``), whoever started it: ``aim-catalog db upgrade`` or a
plain ``alembic upgrade head`` (alembic.ini at the repository root).

``aim-catalog`` passes its engine in ``config.attributes["engine"]`` and may pass hooks
called inside the transaction: ``before_migration`` (reads where the schema stands) and
``after_migration`` (e.g. fills a catalog the migration created). The plain ``alembic``
command connects to ``AIM_CATALOG_DB_URL``, else to the default catalog.
"""

from __future__ import annotations

from collections.abc import Callable

from alembic import context
from sqlalchemy import Connection, Engine

from aim_catalog.storage.dialects import dialect_of
from aim_catalog.storage.models import Base

config = context.config
target_metadata = Base.metadata
Hook = Callable[[Connection], None]


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=dialect_of(connection).batch_migrations,
        compare_type=True,
    )
    with context.begin_transaction():  # joins the locked transaction below
        context.run_migrations()


def migrate(engine: Engine) -> None:
    before: Hook | None = config.attributes.get("before_migration")
    after: Hook | None = config.attributes.get("after_migration")
    with engine.connect() as connection, dialect_of(connection).migration_transaction(connection):
        if before is not None:
            before(connection)
        run(connection)
        if after is not None:
            after(connection)


def main() -> None:
    engine: Engine | None = config.attributes.get("engine")
    if engine is not None:
        migrate(engine)
        return
    from aim_catalog.settings import resolve_db_url
    from aim_catalog.storage.db import make_engine

    url, _ = resolve_db_url(None)  # --db is not Alembic's: $AIM_CATALOG_DB_URL, else the default
    own = make_engine(url)
    try:
        migrate(own)
    finally:
        own.dispose()


main()
