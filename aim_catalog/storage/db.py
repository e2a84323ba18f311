"""Engine and session factory, the schema check and migrations.

What differs between SQLite and PostgreSQL (engine set-up, the write lock, upserts) lives
in ``storage.dialects``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from aim_catalog.errors import database_problem

if TYPE_CHECKING:  # the ORM is imported by the paths that write, not by select
    from pathlib import Path

    from sqlalchemy.orm import Session, sessionmaker

from aim_catalog.errors import EnvironmentProblem, SchemaOutOfDate, UsageProblem, redact
from aim_catalog.storage.dialects import dialect_of
from aim_catalog.storage.resources import migrations_dir

# The newest migration. Checked against the migration scripts by a test, so the hot path
# can compare revisions without importing Alembic.
HEAD_REVISION = "0013"
MIGRATIONS_DIR = migrations_dir()
# Called with the connection of a migration that created the catalog (recipes.seed.seed_catalog).
OnCreated = Callable[[Connection], None]


def normalize_url(url: str) -> str:
    """``postgresql://`` means psycopg 3 here (SQLAlchemy would default to psycopg2)."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:  # ValueError: e.g. a port that is not a number
        raise UsageProblem(f"not a database URL: {redact(url)!r}") from exc
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, *, create: bool = True, pooled: bool = True) -> Engine:
    """An engine for ``url``. ``create=False``: a SQLite catalog file that does not exist
    is an error, not a new empty catalog (a mistyped ``--db`` path for a read command).
    ``pooled=False``: connections are closed when returned, none is kept idle."""
    url = normalize_url(url)
    parsed = make_url(url)
    dialect = dialect_of(parsed.get_backend_name())
    options: dict[str, Any] = {}
    if not pooled and not dialect.keeps_pool(parsed):
        from sqlalchemy.pool import NullPool

        options["poolclass"] = NullPool
    try:
        return dialect.create_engine(parsed, create=create, **options)
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


def alembic_config(engine: Engine | None = None, **attributes: Any) -> Any:
    """The Alembic config of the bundled migrations; ``migrations/env.py`` reads ``engine``
    and the hooks in ``attributes`` (``before_migration``, ``after_migration``)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    if engine is not None:
        config.attributes["engine"] = engine
    config.attributes.update(attributes)
    return config


class _Hooks:
    """What ``migrations/env.py`` calls inside the migration's locked transaction."""

    def __init__(self, on_created: OnCreated | None) -> None:
        self.on_created = on_created
        self.fresh = False
        self.revision: str | None = None

    def before(self, connection: Connection) -> None:
        current = current_revision(connection)
        self.fresh = current is None
        if current is not None:
            _check_known(current)

    def after(self, connection: Connection) -> None:
        if self.fresh and self.on_created is not None:
            self.on_created(connection)
        self.revision = current_revision(connection)


def _run_alembic(
    engine: Engine, action: str, revision: str, on_created: OnCreated | None = None
) -> str | None:
    from alembic import command
    from alembic.util import CommandError

    hooks = _Hooks(on_created)
    config = alembic_config(engine, before_migration=hooks.before, after_migration=hooks.after)
    try:
        try:
            getattr(command, action)(config, revision)
        except CommandError as exc:
            raise UsageProblem(f"cannot {action} to {revision!r}: {exc}") from exc
    except SQLAlchemyError as exc:
        raise database_problem(exc, engine) from exc
    return hooks.revision


def upgrade(engine: Engine, revision: str = "head", *, on_created: OnCreated | None = None) -> str | None:
    """Migrate up to ``revision``. ``on_created`` runs, in the same transaction, when this
    call created the catalog (the API passes ``recipes.seed.seed_catalog`` for the default one)."""
    return _run_alembic(engine, "upgrade", revision, on_created)


def downgrade(engine: Engine, revision: str) -> str | None:
    return _run_alembic(engine, "downgrade", revision)


def revision_of(engine: Engine) -> str | None:
    try:
        with engine.connect() as connection:
            return current_revision(connection)
    except SQLAlchemyError as exc:
        raise database_problem(exc, engine) from exc


def database_file(url: str) -> Path | None:
    """The file a file database (SQLite) at ``url`` lives in; None for a server."""
    parsed = make_url(normalize_url(url))
    return dialect_of(parsed.get_backend_name()).database_file(parsed)


def has_catalog(url: str) -> bool:
    """Whether the database at ``url`` holds a catalog schema (a missing SQLite file: no;
    nothing is created)."""
    path = database_file(url)
    if path is not None and not path.exists():
        return False
    engine = make_engine(url)
    try:
        return revision_of(engine) is not None
    finally:
        engine.dispose()


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


def ensure_schema(
    engine: Engine,
    *,
    auto_migrate: bool,
    shared: bool = False,
    on_created: OnCreated | None = None,
) -> None:
    """Make sure the database is at the code's schema, migrating it when allowed.

    A database this call creates is handed to ``on_created`` (``recipes.seed.seed_catalog``).

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
    upgrade(engine, "head", on_created=on_created)
