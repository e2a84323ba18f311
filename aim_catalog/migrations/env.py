"""Alembic environment. The CLI passes an open, locked connection in
``config.attributes["connection"]``; the plain ``alembic`` command (alembic.ini at the
repository root) connects to ``AIM_CATALOG_DB_URL`` instead."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Connection

from aim_catalog.models import Base

config = context.config
target_metadata = Base.metadata


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    from aim_catalog.db import make_engine
    from aim_catalog.settings import resolve_db_url

    url, _ = resolve_db_url(os.environ.get("AIM_CATALOG_DB_URL"))
    engine = make_engine(url)
    with engine.begin() as own:
        run(own)
    engine.dispose()
