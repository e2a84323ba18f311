"""Engine and session factory, the schema check and migrations.

What differs between SQLite and PostgreSQL (engine set-up, the write lock, upserts) lives
in ``aim_catalog.dialects``; the lock and upsert helpers are re-exported here.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError

if TYPE_CHECKING:  # the ORM is imported by the paths that write, not by select
    from sqlalchemy.orm import Session, sessionmaker

from aim_catalog.dialects import WRITE_LOCK_KEY as WRITE_LOCK_KEY  # re-exported: older callers' names
from aim_catalog.dialects import WriteLockTimeout as WriteLockTimeout
from aim_catalog.dialects import dialect_of
from aim_catalog.dialects import insert_missing as insert_missing
from aim_catalog.dialects import lock_for_write as lock_for_write
from aim_catalog.dialects import upsert as upsert
from aim_catalog.errors import EnvironmentProblem, SchemaOutOfDate, UsageProblem
from aim_catalog.settings import redact

# The newest migration. Checked against the migration scripts by a test, so the hot path
# can compare revisions without importing Alembic.
HEAD_REVISION = "0007"
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
    dialect = dialect_of(parsed.get_backend_name())
    try:
        return dialect.create_engine(parsed, create=create)
    except (NoSuchModuleError, ImportError) as exc:
        raise EnvironmentProblem(f"no database driver for {redact(url)}: {exc}") from exc
    except OSError as exc:
        raise EnvironmentProblem(f"cannot create the catalog directory: {exc}") from exc


def session_factory(engine: Engine) -> sessionmaker[Session]:
    from sqlalchemy.orm import sessionmaker

    return sessionmaker(engine, expire_on_commit=False)


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
    """A connection holding the catalog write lock, in one transaction (see
    ``Dialect.migration_transaction``: SQLite's foreign keys are off meanwhile)."""
    with engine.connect() as connection, dialect_of(connection).migration_transaction(connection):
        yield connection


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
