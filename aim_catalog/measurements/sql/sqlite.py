"""Analysts' SQL on SQLite: the catalog file opened read-only, an authorizer, a deadline.

The catalog file is opened read-only through a ``file:`` URI built from the percent-escaped
absolute path (a ``#`` or ``?`` in a directory name stays part of the path), and an
authorizer allows reading only: no ATTACH (which VACUUM and VACUUM INTO also need), no
writes, not even to temporary tables, no PRAGMA that sets or acts. A progress handler
stops the statement at the deadline or on Ctrl-C (SQLite never returns to Python on its
own inside a long step, so a SIGINT handler only raises a flag). Rows are yielded as
the cursor fetches them, never gathered in memory.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from aim_catalog.errors import CatalogError, EnvironmentProblem, UsageProblem, first_line
from aim_catalog.measurements.sql.query import QueryInterrupted, Result, timed_out

# SQLite VM instructions between two looks at the clock and the Ctrl-C flag.
PROGRESS_STEPS = 1000
_clock = time.monotonic  # tests move it


def catalog_path(database: str) -> Path:
    """The file of a SQLite URL's database part (a path, or a ``file:`` URI's path)."""
    if database.startswith("file:"):
        from urllib.parse import unquote, urlsplit

        database = unquote(urlsplit(database).path)
    return Path(database).expanduser().resolve()


def sqlite_uri(path: Path, *, immutable: bool = False) -> str:
    """A read-only ``file:`` URI for the catalog file at absolute ``path``."""
    uri = path.as_uri()  # percent-escapes #, ?, % and spaces
    return uri + ("?mode=ro&immutable=1" if immutable else "?mode=ro")


# Pragmas that only report. Those with an argument take an object name; the others are
# allowed without one only (`PRAGMA user_version` reads, `PRAGMA user_version = 3` sets).
_PRAGMAS_WITH_NAME = frozenset(
    [
        "table_info",
        "table_xinfo",
        "table_list",
        "index_info",
        "index_xinfo",
        "index_list",
        "foreign_key_list",
        "foreign_key_check",
        "integrity_check",
        "quick_check",
    ]
)
_PRAGMAS_READ = frozenset(
    [
        "user_version",
        "schema_version",
        "application_id",
        "page_size",
        "page_count",
        "freelist_count",
        "encoding",
        "journal_mode",
        "auto_vacuum",
        "database_list",
        "collation_list",
        "function_list",
        "module_list",
        "pragma_list",
        "compile_options",
        "data_version",
        "foreign_keys",
    ]
)
SQLITE_RECURSIVE = 33  # a recursive CTE (the constant is missing from older Pythons)
_READING = frozenset({sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, SQLITE_RECURSIVE})
_ACTION_NAMES = {
    sqlite3.SQLITE_ATTACH: "ATTACH (and VACUUM, which attaches its target)",
    sqlite3.SQLITE_DETACH: "DETACH",
    sqlite3.SQLITE_PRAGMA: "this PRAGMA",
    sqlite3.SQLITE_TRANSACTION: "transaction control",
    sqlite3.SQLITE_ANALYZE: "ANALYZE",
}


class _Guard:
    """The authorizer, the progress handler and the Ctrl-C flag of one statement."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.deadline = _clock() + timeout if timeout else None
        self.interrupted = False
        self.timed_out = False
        self.in_sqlite = False
        self.denied: str | None = None

    def authorize(self, action: int, arg1: str | None, arg2: str | None, _db: str | None, _src: Any) -> int:
        if action in _READING:
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_PRAGMA and arg1 is not None:
            name = arg1.lower()
            if name in _PRAGMAS_WITH_NAME or (name in _PRAGMAS_READ and arg2 is None):
                return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_UPDATE and arg1 in ("sqlite_master", "sqlite_schema"):
            # SQLite's own bookkeeping when a table-valued pragma (pragma_table_info(...))
            # is set up. User SQL cannot write the schema table without
            # PRAGMA writable_schema, which is denied, and the file is open read-only.
            return sqlite3.SQLITE_OK
        self.denied = _ACTION_NAMES.get(action, "writing")
        return sqlite3.SQLITE_DENY

    def progress(self) -> int:
        if self.interrupted:
            return 1
        if self.deadline is not None and _clock() > self.deadline:
            self.timed_out = True
            return 1
        return 0

    def on_sigint(self, _signum: int, _frame: FrameType | None) -> None:
        self.interrupted = True
        if not self.in_sqlite:  # in our own code: stop right here
            raise KeyboardInterrupt

    def check(self) -> None:
        if self.interrupted:
            raise QueryInterrupted("interrupted")
        if self.progress():
            raise timed_out(self.timeout)

    def failure(self, exc: BaseException) -> CatalogError:
        if self.interrupted:
            return QueryInterrupted("interrupted")
        if self.timed_out:
            return timed_out(self.timeout)
        message = first_line(exc)
        if self.denied is not None:
            message += f": `sql` is read-only and does not allow {self.denied}"
        return UsageProblem(f"query failed: {message}")


@contextmanager
def _sigint_to(guard: _Guard) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread receives signals
        return
    previous = signal.signal(signal.SIGINT, guard.on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _open_readonly(path: Path, timeout: float) -> sqlite3.Connection:
    busy = min(timeout, 30.0) if timeout else 30.0
    if not path.is_file():
        raise EnvironmentProblem(f"no catalog file at {path}")
    connection = sqlite3.connect(sqlite_uri(path), uri=True, timeout=busy)
    try:
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return connection
    except sqlite3.OperationalError:
        connection.close()
        if os.access(path.parent, os.W_OK):
            raise
    # A WAL catalog on a read-only mount: nothing here can change it, read it as a snapshot.
    return sqlite3.connect(sqlite_uri(path, immutable=True), uri=True, timeout=busy)


@contextmanager
def sqlite_query(engine: Engine, query: str, timeout: float) -> Iterator[Result]:
    database = make_url(engine.url).database or ""
    if database in ("", ":memory:"):
        raise UsageProblem("`sql` needs a file catalog")
    guard = _Guard(timeout)
    path = catalog_path(database)
    try:
        connection = _open_readonly(path, timeout)
    except sqlite3.Error as exc:
        raise EnvironmentProblem(f"cannot open the catalog {path} read-only: {exc}") from exc
    try:
        connection.set_authorizer(guard.authorize)
        connection.set_progress_handler(guard.progress, PROGRESS_STEPS)
        with _sigint_to(guard):
            try:
                guard.in_sqlite = True
                try:
                    cursor = connection.execute(query)
                finally:
                    guard.in_sqlite = False
                columns = [d[0] for d in cursor.description or []]
                yield Result(columns, _sqlite_rows(cursor, guard))
            except (sqlite3.Error, sqlite3.Warning) as exc:  # Warning: several statements at once
                raise guard.failure(exc) from None
            except KeyboardInterrupt:
                raise QueryInterrupted("interrupted") from None
    finally:
        connection.close()


def _sqlite_rows(cursor: sqlite3.Cursor, guard: _Guard) -> Iterator[tuple[Any, ...]]:
    """Row by row, so a slow query shows each row as it is found."""
    if cursor.description is None:
        return
    count = 0
    while True:
        guard.in_sqlite = True
        try:
            row = cursor.fetchone()
        finally:
            guard.in_sqlite = False
        count += 1
        if guard.interrupted or count % 1000 == 0 or row is None:
            guard.check()  # fast rows never reach the progress handler: look at the clock here
        if row is None:
            return
        yield row
