"""Engine and session factory, the schema check, migrations and the one upsert helper.

SQLite runs with foreign keys on, WAL, a busy timeout and explicit ``BEGIN`` statements
(pysqlite's own transaction handling does not cover DDL). Writers take the catalog write
lock first: ``BEGIN IMMEDIATE`` on SQLite, a transaction-scoped advisory lock on
PostgreSQL, so two processes migrating or ingesting at once queue instead of colliding.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, Table, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError

if TYPE_CHECKING:  # the ORM is imported by the paths that write, not by select
    from sqlalchemy.orm import Session, sessionmaker

from aim_catalog.errors import EnvironmentProblem, SchemaOutOfDate, UsageProblem
from aim_catalog.settings import LOCK_TIMEOUT_ENV, lock_timeout, redact

# The newest migration. Checked against the migration scripts by a test, so the hot path
# can compare revisions without importing Alembic.
HEAD_REVISION = "0007"
# pg_advisory_xact_lock key for "someone is writing the catalog" ("AIMC").
WRITE_LOCK_KEY = 0x41494D43
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def normalize_url(url: str) -> str:
    """``postgresql://`` means psycopg 3 here (SQLAlchemy would default to psycopg2)."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:  # ValueError: e.g. a port that is not a number
        raise UsageProblem(f"not a database URL: {redact(url)!r}") from exc
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, *, create: bool = True) -> Engine:
    """An engine for ``url``. ``create=False``: a SQLite catalog file that does not exist
    is an error, not a new empty catalog (a mistyped ``--db`` path for a read command)."""
    url = normalize_url(url)
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise UsageProblem(f"unsupported database {backend!r}: use sqlite:/// or postgresql://")
    try:
        if backend == "sqlite":
            database = parsed.database or ""
            if database and database != ":memory:" and not database.startswith("file:"):
                path = Path(database).expanduser()
                if not create and not path.exists():
                    raise EnvironmentProblem(
                        f"no catalog at {path} (create it with `aim-catalog db upgrade` or `ingest`)"
                    )
                path.parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(parsed, connect_args={"timeout": 60})
            _sqlite_events(engine)
            if database and database != ":memory:" and not database.startswith("file:"):
                _read_only_fallback(engine, Path(database).expanduser())
        else:
            engine = create_engine(parsed, pool_pre_ping=False)
    except (NoSuchModuleError, ImportError) as exc:
        raise EnvironmentProblem(f"no database driver for {redact(url)}: {exc}") from exc
    except OSError as exc:
        raise EnvironmentProblem(f"cannot create the catalog directory: {exc}") from exc
    return engine


def _sqlite_events(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {_busy_ms(lock_timeout())}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA synchronous = NORMAL")
        _use_wal(cursor)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        if mode == "IMMEDIATE":
            _sqlite_begin_immediate(connection.connection.driver_connection)
        else:
            connection.exec_driver_sql(f"BEGIN {mode}")


class WriteLockTimeout(EnvironmentProblem):
    """Another process held the catalog write lock for longer than the configured limit."""


def _busy_ms(seconds: float) -> int:
    return min(int(seconds * 1000), 2**31 - 1)


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


def _sqlite_begin_immediate(raw: Any) -> None:
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
        raw.execute(f"PRAGMA busy_timeout = {_busy_ms(limit)}")
        try:
            raw.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise _gave_up(limit) from None
            raise
    finally:
        raw.execute(f"PRAGMA busy_timeout = {_busy_ms(limit)}")


def _pg_write_lock(connection: Connection) -> None:
    """The advisory write lock: without waiting if free, else queue (saying so) up to the limit."""
    limit = lock_timeout()
    if connection.execute(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": WRITE_LOCK_KEY}).scalar():
        return
    if limit <= 0:
        raise _gave_up(limit)
    _waiting_note(limit)
    previous = connection.execute(text("SELECT current_setting('lock_timeout')")).scalar()
    connection.execute(text("SELECT set_config('lock_timeout', :v, true)"), {"v": f"{_busy_ms(limit)}ms"})
    try:
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITE_LOCK_KEY})
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) == "55P03":  # lock_not_available
            raise _gave_up(limit) from None
        raise
    connection.execute(text("SELECT set_config('lock_timeout', :v, true)"), {"v": previous})


_READ_ONLY_NOTED: set[str] = set()


def _read_only_fallback(engine: Engine, path: Path) -> None:
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


def session_factory(engine: Engine) -> sessionmaker[Session]:
    from sqlalchemy.orm import sessionmaker

    return sessionmaker(engine, expire_on_commit=False)


def lock_for_write(session: Session) -> None:
    """Take the catalog write lock for the rest of the session's transaction.

    Call it before anything else in the transaction: on SQLite the lock is the
    transaction's ``BEGIN IMMEDIATE``. Calling it again in the same transaction is a no-op.
    """
    transaction = session.get_transaction()
    if transaction is not None and session.info.get("aim_write_locked") is transaction:
        return
    connection = session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
    if connection.dialect.name == "postgresql":
        _pg_write_lock(connection)
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
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    else:  # pragma: no cover - make_engine refuses other dialects
        raise UsageProblem(f"upsert is not implemented for {dialect}")
    stmt = insert(table)
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
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    session.execute(insert(table).on_conflict_do_nothing(index_elements=list(key)), list(rows))


def current_revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def alembic_config(connection: Connection | None = None) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@contextmanager
def _migration_connection(engine: Engine) -> Iterator[Connection]:
    """A connection holding the catalog write lock, in one transaction.

    SQLite: foreign keys are switched off for the duration, since batch migrations copy
    and drop tables (with them on, dropping a parent would cascade into its children);
    ``foreign_key_check`` must come back clean before the commit.
    """
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        raw = connection.connection.driver_connection
        assert raw is not None
        if sqlite:
            raw.execute("PRAGMA foreign_keys = OFF")
        try:
            connection.execution_options(sqlite_begin="IMMEDIATE")
            with connection.begin():
                if not sqlite:
                    _pg_write_lock(connection)
                yield connection
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise EnvironmentProblem(f"migration left dangling foreign keys: {broken[:5]}")
        finally:
            if sqlite:
                raw.execute("PRAGMA foreign_keys = ON")


def _run_alembic(engine: Engine, action: str, revision: str, seed: bool = False) -> str | None:
    from alembic import command
    from alembic.util import CommandError

    try:
        with _migration_connection(engine) as connection:
            current = current_revision(connection)
            fresh = current is None
            if current is not None:
                _check_known(current)
            config = alembic_config(connection)
            try:
                getattr(command, action)(config, revision)
            except CommandError as exc:
                raise UsageProblem(f"cannot {action} to {revision!r}: {exc}") from exc
            if seed and fresh and action == "upgrade":
                _seed(connection)
            return current_revision(connection)
    except SQLAlchemyError as exc:
        raise database_problem(exc, engine) from exc


def _seed(connection: Connection) -> None:
    from aim_catalog.ingest import ingest, seed_recipe_dir
    from aim_catalog.recipe import load_recipes

    recipes, problems, _ = load_recipes([seed_recipe_dir()])
    if problems:  # pragma: no cover - the bundled recipes are tested
        raise EnvironmentProblem("bundled seed recipes are invalid:\n" + "\n".join(map(str, problems)))
    from sqlalchemy.orm import Session

    with Session(bind=connection, join_transaction_mode="create_savepoint") as session:
        ingest(session, recipes)
        session.commit()  # releases the savepoint; the migration's transaction commits it


def upgrade(engine: Engine, revision: str = "head", *, seed: bool = False) -> str | None:
    """Migrate up to ``revision``; ``seed`` fills a database created by this call."""
    return _run_alembic(engine, "upgrade", revision, seed=seed)


def downgrade(engine: Engine, revision: str) -> str | None:
    return _run_alembic(engine, "downgrade", revision)


def revision_of(engine: Engine) -> str | None:
    try:
        with engine.connect() as connection:
            return current_revision(connection)
    except SQLAlchemyError as exc:
        raise database_problem(exc, engine) from exc


def _check_known(revision: str) -> None:
    """A revision this code has no script for was written by a newer aim-catalog."""
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    try:
        ScriptDirectory.from_config(alembic_config()).get_revision(revision)
    except CommandError as exc:
        raise EnvironmentProblem(
            f"the catalog database is at schema revision {revision}, which this aim-catalog "
            f"does not know (it knows up to {HEAD_REVISION}): upgrade aim-catalog to use it"
        ) from exc


def ensure_schema(engine: Engine, *, auto_migrate: bool, seed: bool = False, shared: bool = False) -> None:
    """Make sure the database is at the code's schema, migrating it when allowed.

    A ``shared`` catalog (one named by ``--db`` or ``$AIM_CATALOG_DB_URL``) that already
    holds a schema is never migrated behind its users' backs: older aim-catalog clients on
    other hosts would refuse it afterwards. Its admin runs ``aim-catalog db upgrade``, as
    MLflow and Prefect ask. An empty database, shared or not, is created on first use.
    """
    current = revision_of(engine)
    if current == HEAD_REVISION:
        return
    if current is not None:
        _check_known(current)
    if not auto_migrate:
        where = f"at revision {current}" if current else "empty"
        raise SchemaOutOfDate(
            f"the catalog database is {where}, this aim-catalog needs {HEAD_REVISION}: "
            "run `aim-catalog db upgrade` (automatic migration is off: AIM_CATALOG_AUTO_MIGRATE=0)"
        )
    if shared and current is not None:
        raise SchemaOutOfDate(
            f"the catalog database {engine.url.render_as_string(hide_password=True)} is at revision "
            f"{current}, this aim-catalog needs {HEAD_REVISION}: run `aim-catalog db upgrade` "
            "(a shared catalog is not migrated automatically: other hosts' clients may be older)"
        )
    upgrade(engine, "head", seed=seed)


def database_problem(exc: BaseException, engine: Engine | None = None) -> EnvironmentProblem:
    """Turn a driver error into a message that names the database but never its password."""
    where = engine.url.render_as_string(hide_password=True) if engine is not None else "the database"
    detail = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    first_line = str(detail).strip().splitlines()[0] if str(detail).strip() else type(detail).__name__
    if "readonly database" in first_line:
        first_line += " (the catalog is read-only here: only commands that read it can run)"
    return EnvironmentProblem(redact(f"database error on {where}: {first_line}"))
