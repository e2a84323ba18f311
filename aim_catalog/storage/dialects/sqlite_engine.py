"""How a SQLite catalog file is opened: pragmas, WAL, explicit ``BEGIN`` and read-only mounts.

SQLite runs with foreign keys on, WAL, a busy timeout and explicit ``BEGIN`` statements
(pysqlite's own transaction handling does not cover DDL). A writer's transaction begins
``IMMEDIATE`` (the catalog write lock, ``aim_catalog.dialects``); a catalog on a read-only
mount is opened read-only instead of failing.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, event

from aim_catalog.errors import EnvironmentProblem
from aim_catalog.settings import lock_timeout
from aim_catalog.storage.dialects import millis


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
                sys.stderr.write(f"note: the catalog {path} is read-only here ({why}): opened {how}\n")
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
