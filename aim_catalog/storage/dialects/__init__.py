"""Everything that differs between SQLite and PostgreSQL, one class per dialect.

``dialect_of(x)`` (an engine, connection, session or dialect name) gives the object that
knows how its database opens an engine, upserts, takes the catalog write lock, runs a
migration, joins a config to its best benchmark row and runs analysts' read-only SQL.
The rest of the code asks it instead of testing ``dialect.name``.

The catalog write lock: ``BEGIN IMMEDIATE`` on SQLite, a transaction-scoped advisory lock
on PostgreSQL, so two processes migrating or ingesting at once queue instead of colliding.
A writer that has to wait says so once on stderr, and gives up after the lock timeout.

Dialect-specific SQLAlchemy modules (``sqlalchemy.dialects.postgresql``...) are imported
inside the methods that need them: a ``select`` on SQLite never loads PostgreSQL's.
"""

from __future__ import annotations

import sqlite3
import sys
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import Connection, Engine, Table, create_engine, text, true
from sqlalchemy.exc import DBAPIError

from aim_catalog.errors import EnvironmentProblem, UsageProblem
from aim_catalog.settings import LOCK_TIMEOUT_ENV, lock_timeout

if TYPE_CHECKING:  # the ORM is imported by the paths that write, not by select
    from sqlalchemy import URL, ColumnElement, FromClause, Select
    from sqlalchemy.orm import Session

    from aim_catalog.measurements.sql.query import Result

# pg_advisory_xact_lock key for "someone is writing the catalog" ("AIMC").
WRITE_LOCK_KEY = 0x41494D43


def millis(seconds: float) -> int:
    """A timeout in milliseconds, as SQLite's busy_timeout and PostgreSQL's lock_timeout take it."""
    return min(int(seconds * 1000), 2**31 - 1)


class WriteLockTimeout(EnvironmentProblem):
    """Another process held the catalog write lock for longer than the configured limit."""


def _waiting_note(limit: float) -> None:
    """Said once per wait, on stderr: a writer that queues should not look hung."""
    sys.stderr.write(
        f"note: another process is writing the catalog; waiting for it (up to {limit:g} s, "
        f"set by {LOCK_TIMEOUT_ENV})\n"
    )
    sys.stderr.flush()


def _gave_up(limit: float) -> WriteLockTimeout:
    return WriteLockTimeout(
        f"another process kept the catalog locked for writing; gave up after {limit:g} s "
        f"(nothing was written; retry, or set {LOCK_TIMEOUT_ENV} to wait longer)"
    )


class Dialect(ABC):
    """What the catalog needs from a database; subclasses fill in their dialect's way."""

    name: ClassVar[str]
    # Alembic's batch mode: SQLite alters a table by copying it.
    batch_migrations: ClassVar[bool] = False
    # Login roles with their own grants (``db grant-readonly``, ``sql --role``).
    roles: ClassVar[bool] = False

    def database_file(self, url: URL) -> Path | None:
        """The file the catalog lives in, for a file database (None: a server, or memory)."""
        return None

    def keeps_pool(self, url: URL) -> bool:
        """Whether the database may live only as long as its connection (an in-memory one),
        so an engine must keep a pooled connection open."""
        return False

    @abstractmethod
    def create_engine(self, url: URL, *, create: bool, **options: Any) -> Engine:
        """An engine set up for this dialect (``create=False``: see ``db.make_engine``;
        ``options`` go to SQLAlchemy's ``create_engine``)."""

    @abstractmethod
    def insert(self, table: Table) -> Any:
        """The dialect's ``INSERT`` construct, which has ``on_conflict_do_*``."""

    @abstractmethod
    def write_lock(self, connection: Connection) -> None:
        """Take the catalog write lock in ``connection``'s transaction.

        On SQLite that transaction must have begun with the ``sqlite_begin="IMMEDIATE"``
        execution option (``lock_for_write`` asks for it).
        """

    @abstractmethod
    def migration_transaction(self, connection: Connection) -> AbstractContextManager[None]:
        """One transaction holding the write lock, in which a migration runs."""

    @abstractmethod
    def best_row_join(
        self, best_of_config: Select[Any], best_alias: FromClause, inner_id: ColumnElement[Any]
    ) -> tuple[FromClause, ColumnElement[bool]]:
        """What to join a serve config to, and on what, to get its best benchmark row.

        ``best_of_config`` selects the config's benchmark rows (correlated to the config),
        best first, ``LIMIT 1``; ``best_alias`` is an alias of the benchmarks table named
        ``best`` and ``inner_id`` the id column ``best_of_config`` reads rows from.
        """

    @abstractmethod
    def readonly_query(
        self, engine: Engine, query: str, timeout: float, role: str | None, password: str | None
    ) -> AbstractContextManager[Result]:
        """Analysts' SQL: ``query`` read-only and time-limited, its rows streamed (``readonly_sql``)."""


class SQLite(Dialect):
    name = "sqlite"
    batch_migrations = True

    def keeps_pool(self, url: URL) -> bool:
        # Memory databases (":memory:", "file::memory:", "?mode=memory") and anything else
        # that is not a plain file keep their pool: the cost of doing so is nothing.
        return self.database_file(url) is None

    def database_file(self, url: URL) -> Path | None:
        """The file of a path or a ``file:`` URI (None: a memory database)."""
        database = url.database or ""
        if database in ("", ":memory:") or url.query.get("mode") == "memory":
            return None
        if database.startswith("file:"):
            from urllib.parse import unquote, urlsplit

            path = unquote(urlsplit(database).path)
            return None if path in ("", ":memory:") else Path(path).expanduser()
        return Path(database).expanduser()

    def create_engine(self, url: URL, *, create: bool, **options: Any) -> Engine:
        """A file catalog's directory is created; ``create=False`` refuses a missing file."""
        from aim_catalog.storage.dialects import sqlite_engine

        # A file: URI is passed to SQLite as given (its query may say how to open it).
        path = None if (url.database or "").startswith("file:") else self.database_file(url)
        if path is not None:
            if not create and not path.exists():
                raise EnvironmentProblem(
                    f"no catalog at {path} (create it with `aim-catalog db upgrade` or `ingest`)"
                )
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 60}, **options)
        sqlite_engine.install_events(engine, self.begin_immediate)
        if path is not None:
            sqlite_engine.read_only_fallback(engine, path)
        return engine

    def insert(self, table: Table) -> Any:
        from sqlalchemy.dialects.sqlite import insert

        return insert(table)

    @staticmethod
    def begin_immediate(raw: Any) -> None:
        """``BEGIN IMMEDIATE``: try once without waiting, then queue (saying so) up to the limit."""
        limit = lock_timeout()
        raw.execute("PRAGMA busy_timeout = 0")
        try:
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
            if limit <= 0:
                raise _gave_up(limit)
            _waiting_note(limit)
            raw.execute(f"PRAGMA busy_timeout = {millis(limit)}")
            try:
                raw.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                if "locked" in str(exc) or "busy" in str(exc):
                    raise _gave_up(limit) from None
                raise
        finally:
            raw.execute(f"PRAGMA busy_timeout = {millis(limit)}")

    def write_lock(self, connection: Connection) -> None:
        """Nothing to add: the transaction began ``IMMEDIATE`` (see ``Dialect.write_lock``)."""

    @contextmanager
    def migration_transaction(self, connection: Connection) -> Iterator[None]:
        """Foreign keys are switched off for the duration, since batch migrations copy and
        drop tables (with them on, dropping a parent would cascade into its children);
        ``foreign_key_check`` must come back clean before the commit. (The pragma is a
        no-op inside a transaction, so it is set before ``BEGIN`` and reset after the end.)
        """
        raw = connection.connection.driver_connection
        assert raw is not None
        raw.execute("PRAGMA foreign_keys = OFF")
        try:
            connection.execution_options(sqlite_begin="IMMEDIATE")
            with connection.begin():
                yield
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise EnvironmentProblem(f"migration left dangling foreign keys: {broken[:5]}")
        finally:
            raw.execute("PRAGMA foreign_keys = ON")

    def best_row_join(
        self, best_of_config: Select[Any], best_alias: FromClause, inner_id: ColumnElement[Any]
    ) -> tuple[FromClause, ColumnElement[bool]]:
        # SQLite has no LATERAL; a correlated scalar subquery picks the row's id instead.
        return best_alias, best_alias.c.id == best_of_config.with_only_columns(inner_id).scalar_subquery()

    def readonly_query(
        self, engine: Engine, query: str, timeout: float, role: str | None, password: str | None
    ) -> AbstractContextManager[Result]:
        if role is not None:
            raise UsageProblem("--role applies to PostgreSQL catalogs; SQLite needs none")
        from aim_catalog.measurements.sql.query import sqlite_query

        return sqlite_query(engine, query, timeout)


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
            raise _gave_up(limit)
        _waiting_note(limit)
        previous = connection.execute(text("SELECT current_setting('lock_timeout')")).scalar()
        set_timeout = text("SELECT set_config('lock_timeout', :v, true)")
        connection.execute(set_timeout, {"v": f"{millis(limit)}ms"})
        try:
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), key)
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) == "55P03":  # lock_not_available
                raise _gave_up(limit) from None
            raise
        connection.execute(set_timeout, {"v": previous})

    @contextmanager
    def migration_transaction(self, connection: Connection) -> Iterator[None]:
        with connection.begin():
            self.write_lock(connection)
            yield

    def best_row_join(
        self, best_of_config: Select[Any], best_alias: FromClause, inner_id: ColumnElement[Any]
    ) -> tuple[FromClause, ColumnElement[bool]]:
        return best_of_config.lateral("best"), true()

    def readonly_query(
        self, engine: Engine, query: str, timeout: float, role: str | None, password: str | None
    ) -> AbstractContextManager[Result]:
        from aim_catalog.measurements.sql.postgresql import postgresql_query

        return postgresql_query(engine, query, timeout, role, password)


_DIALECTS: dict[str, Dialect] = {d.name: d for d in (SQLite(), PostgreSQL())}


def dialect_of(target: str | Engine | Connection | Session) -> Dialect:
    """The dialect of an engine, connection, session, or of a name (``"sqlite"``)."""
    if isinstance(target, str):
        name = target
    elif isinstance(target, (Engine, Connection)):
        name = target.dialect.name
    else:
        name = target.get_bind().dialect.name
    try:
        return _DIALECTS[name]
    except KeyError:
        raise UsageProblem(f"unsupported database {name!r}: use sqlite:/// or postgresql://") from None


def lock_for_write(session: Session) -> None:
    """Take the catalog write lock for the rest of the session's transaction.

    Call it before anything else in the transaction: on SQLite the lock is the
    transaction's ``BEGIN IMMEDIATE``. Calling it again in the same transaction is a no-op.
    """
    transaction = session.get_transaction()
    if transaction is not None and session.info.get("aim_write_locked") is transaction:
        return
    connection = session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
    dialect_of(connection).write_lock(connection)
    session.info["aim_write_locked"] = session.get_transaction()


def upsert(
    session: Session,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    key: Sequence[str],
    update: Sequence[str],
    returning: Sequence[str] = (),
) -> list[Any]:
    """Insert ``rows``, updating ``update`` columns where ``key`` already exists."""
    if not rows:
        return []
    stmt = dialect_of(session).insert(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=list(key), set_={name: stmt.excluded[name] for name in update}
    )
    if returning:
        result = session.execute(stmt.returning(*(table.c[n] for n in returning)), list(rows))
        return list(result)
    session.execute(stmt, list(rows))
    return []


def insert_missing(
    session: Session, table: Table, rows: Sequence[Mapping[str, Any]], *, key: Sequence[str]
) -> None:
    """Insert ``rows``, skipping those whose ``key`` (a unique index) is already there."""
    if rows:
        stmt = dialect_of(session).insert(table).on_conflict_do_nothing(index_elements=list(key))
        session.execute(stmt, list(rows))
