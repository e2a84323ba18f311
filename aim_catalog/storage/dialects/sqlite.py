"""SQLite: how a catalog file is opened (pragmas, WAL, explicit ``BEGIN``, read-only mounts)
and the ``SQLite`` dialect.

SQLite runs with foreign keys on, WAL, a busy timeout and explicit ``BEGIN`` statements
(pysqlite's own transaction handling does not cover DDL). A writer's transaction begins
``IMMEDIATE`` (the catalog write lock); a catalog on a read-only mount is opened read-only
instead of failing.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Connection, Engine, Table, create_engine, event, func

from aim_catalog.errors import EnvironmentProblem, NoCatalog
from aim_catalog.settings import lock_timeout
from aim_catalog.storage.dialects.base import Dialect, gave_up, log, millis, waiting_note

if TYPE_CHECKING:
    from sqlalchemy import URL, ColumnElement, FromClause, Select

BULK_CACHE_KIB = 128 << 10  # SQLite.bulk_write's page cache: allocated as pages are used


def install_events(engine: Engine, begin_immediate: Callable[[Any], None]) -> None:
    """Pragmas on every new connection; ``BEGIN <mode>`` from the ``sqlite_begin`` option."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {millis(lock_timeout())}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA synchronous = NORMAL")
        _use_wal(cursor)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        if mode == "IMMEDIATE":
            begin_immediate(connection.connection.driver_connection)
        else:
            connection.exec_driver_sql(f"BEGIN {mode}")


_READ_ONLY_NOTED: set[str] = set()


def read_only_fallback(engine: Engine, path: Path) -> None:
    """Open a catalog on a read-only mount (or file) read-only instead of failing.

    A WAL database needs its ``-shm`` file: where it cannot be created, SQLite refuses to
    open the database at all. Such a catalog is opened ``mode=ro`` (enough when the
    ``-shm``/``-wal`` files exist), else ``immutable=1`` (no locking: the location cannot
    be written, so no local writer can change it). Commands that write then fail on the
    first write with a message that says why.
    """

    @event.listens_for(engine, "do_connect")
    def _connect(_dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
        raw = sqlite3.connect(*cargs, **cparams)
        try:
            raw.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return raw
        except sqlite3.OperationalError as exc:
            raw.close()
            why = _why_read_only(path)
            if why is None:
                raise
            first = exc
        params = {k: v for k, v in cparams.items() if k != "uri"}
        for query, how in (("mode=ro", "read-only"), ("mode=ro&immutable=1", "as an immutable snapshot")):
            try:
                raw = sqlite3.connect(f"{path.resolve().as_uri()}?{query}", uri=True, **params)
                raw.execute("SELECT count(*) FROM sqlite_master").fetchone()
            except sqlite3.Error:
                raw.close()
                continue
            if str(path) not in _READ_ONLY_NOTED:
                _READ_ONLY_NOTED.add(str(path))
                log.warning("note: the catalog %s is read-only here (%s): opened %s", path, why, how)
            return raw
        raise EnvironmentProblem(
            f"cannot open the catalog {path}: {first} ({why}, and a read-only open failed too)"
        )


def _why_read_only(path: Path) -> str | None:
    """Why SQLite cannot write beside ``path`` (None: it can, or there is no such file)."""
    if not path.is_file():
        return None
    shm = f"{path.name}-shm"
    if os.statvfs(path).f_flag & os.ST_RDONLY:
        return f"it is on a read-only file system, where SQLite cannot create WAL's {shm}"
    if not os.access(path, os.W_OK):
        return "the file is not writable"
    if not os.access(path.parent, os.W_OK):
        return f"its directory {path.parent} is not writable, so SQLite cannot create WAL's {shm}"
    return None


def _use_wal(cursor: Any) -> None:
    """Switch a file database to WAL (readers never wait for the writer), once.

    The switch needs an exclusive lock and SQLite does not run the busy handler for it,
    so a process that finds another one mid-transaction retries briefly; failing that it
    carries on in rollback-journal mode, which is slower under contention but correct.
    """
    if cursor.execute("PRAGMA journal_mode").fetchone()[0] in ("wal", "memory"):
        return
    for _ in range(20):
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "readonly" in str(exc):  # a read-only catalog stays as it is
                return
            if "locked" not in str(exc):
                raise
            time.sleep(0.05)


class SQLite(Dialect):
    name = "sqlite"
    batch_migrations = True

    @contextmanager
    def bulk_write(self, connection: Connection) -> Iterator[None]:
        """A page cache of up to ``BULK_CACHE_KIB`` for the block (then as it was): with
        SQLite's 2 MiB, writing 100k benchmark rows (~50 MiB with their index) spills
        pages to the WAL again and again, a quarter of the time it takes."""
        raw: Any = connection.connection.driver_connection
        before = raw.execute("PRAGMA cache_size").fetchone()[0]
        raw.execute(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")
        try:
            yield
        finally:
            raw.execute(f"PRAGMA cache_size = {int(before)}")

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
        # A file: URI is passed to SQLite as given (its query may say how to open it).
        path = None if (url.database or "").startswith("file:") else self.database_file(url)
        if path is not None:
            if not create and not path.exists():
                raise NoCatalog(str(path))
            path.parent.mkdir(parents=True, exist_ok=True)
        if self.keeps_pool(url) and "poolclass" not in options:
            from sqlalchemy.pool import SingletonThreadPool

            # A memory database lives as long as its one connection: say so (SQLAlchemy 2.1
            # deprecates picking this pool from a `mode=memory` URI by itself).
            options["poolclass"] = SingletonThreadPool
        engine = create_engine(url, connect_args={"timeout": 60}, **options)
        install_events(engine, self.begin_immediate)
        if path is not None:
            read_only_fallback(engine, path)
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
                raise gave_up(limit)
            waiting_note(limit)
            raw.execute(f"PRAGMA busy_timeout = {millis(limit)}")
            try:
                raw.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                if "locked" in str(exc) or "busy" in str(exc):
                    raise gave_up(limit) from None
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
        raw: Any = connection.connection.driver_connection
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

    def json_rows(self, *columns: ColumnElement[Any]) -> ColumnElement[Any]:
        return func.json_group_array(func.json_array(*columns), type_=JSON)

    def best_row_join(
        self, best_of_config: Select[Any], best_alias: FromClause, inner_id: ColumnElement[Any]
    ) -> tuple[FromClause, ColumnElement[bool]]:
        # SQLite has no LATERAL; a correlated scalar subquery picks the row's id instead.
        return best_alias, best_alias.c.id == best_of_config.with_only_columns(inner_id).scalar_subquery()
