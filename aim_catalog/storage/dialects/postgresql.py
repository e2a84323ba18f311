"""PostgreSQL: the ``PostgreSQL`` dialect (a shared catalog for a fleet).

The write lock is a transaction-scoped advisory lock; the best benchmark row is joined
LATERAL; login roles exist (``db grant-readonly``). PostgreSQL's SQLAlchemy modules are
imported inside the methods that need them: a ``select`` on SQLite never loads them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Connection, Engine, Table, create_engine, func, text, true
from sqlalchemy.exc import DBAPIError

from aim_catalog.settings import lock_timeout
from aim_catalog.storage.dialects.base import WRITE_LOCK_KEY, Dialect, gave_up, millis, waiting_note

if TYPE_CHECKING:
    from sqlalchemy import URL, ColumnElement, FromClause, Select


class PostgreSQL(Dialect):
    name = "postgresql"
    roles = True

    def create_engine(self, url: URL, *, create: bool, **options: Any) -> Engine:
        return create_engine(url, pool_pre_ping=False, **options)

    def insert(self, table: Table) -> Any:
        from sqlalchemy.dialects.postgresql import insert

        return insert(table)

    def write_lock(self, connection: Connection) -> None:
        """The advisory lock: without waiting if free, else queue (saying so) up to the limit."""
        limit = lock_timeout()
        key = {"key": WRITE_LOCK_KEY}
        if connection.execute(text("SELECT pg_try_advisory_xact_lock(:key)"), key).scalar():
            return
        if limit <= 0:
            raise gave_up(limit)
        waiting_note(limit)
        previous = connection.execute(text("SELECT current_setting('lock_timeout')")).scalar()
        set_timeout = text("SELECT set_config('lock_timeout', :v, true)")
        connection.execute(set_timeout, {"v": f"{millis(limit)}ms"})
        try:
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), key)
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) == "55P03":  # lock_not_available
                raise gave_up(limit) from None
            raise
        connection.execute(set_timeout, {"v": previous})

    @contextmanager
    def migration_transaction(self, connection: Connection) -> Iterator[None]:
        with connection.begin():
            self.write_lock(connection)
            yield

    def json_rows(self, *columns: ColumnElement[Any]) -> ColumnElement[Any]:
        return func.json_agg(func.json_build_array(*columns), type_=JSON)

    def best_row_join(
        self, best_of_config: Select[Any], best_alias: FromClause, inner_id: ColumnElement[Any]
    ) -> tuple[FromClause, ColumnElement[bool]]:
        return best_of_config.lateral("best"), true()
