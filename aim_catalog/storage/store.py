"""The catalog database behind a ``Catalog``: opening it, units of work, error translation.

``Store.open(url)`` opens at once (the engine, the schema check: the default catalog is
created, migrated and filled by the ``seed`` hook on first use; a shared one at an older
schema is refused).
``Store.deferred(url)`` opens on first use, so a command checks its input before it touches
(or creates) any database; the CLI's engines keep no idle connection between units of
work, since a command may then run for hours (``logs --follow``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeVar

from aim_catalog import arguments
from aim_catalog.errors import CatalogClosed, WrongArgumentType, database_problem, redact, shown
from aim_catalog.settings import auto_migrate_enabled, resolve_db_url

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine
    from sqlalchemy.orm import Session, sessionmaker

S = TypeVar("S", bound="Store")
# Where a catalog is: a database URL, or the path of a SQLite file (``Path("x.db")``).
Where = str | os.PathLike[str]
# Fills a catalog a migration has just created (given the migration's connection).
Seed = Callable[["Connection"], None]


class Store:
    """One catalog database: one engine, its schema checked once, when it is first used."""

    def __init__(
        self,
        url: str,
        *,
        is_default: bool,
        create: bool = False,
        pooled: bool = True,
        seed: Seed | None = None,
    ) -> None:
        self.url = url
        self.is_default = is_default
        self._create = create
        self._pooled = pooled
        self._seed = seed if is_default else None  # only the default catalog is filled on creation
        self._engine: Engine | None = None
        self._sessions: sessionmaker[Session] | None = None
        self._closed = False

    @classmethod
    def open(cls: type[S], url: Where | None = None, *, create: bool = False, seed: Seed | None = None) -> S:
        """Open the catalog at ``url`` (None: ``$AIM_CATALOG_DB_URL``, else the default one).

        The default catalog is created, migrated and filled by ``seed`` on first use; any
        other database that holds an older schema is refused until its admin runs
        ``aim-catalog db upgrade``. A SQLite file that does not exist is an error unless
        ``create`` (or it is the default catalog).
        """
        store = cls.deferred(url, create=create, seed=seed)
        store.engine  # noqa: B018  (opens it now: errors belong to open)
        return store

    @classmethod
    def deferred(
        cls: type[S],
        url: Where | None = None,
        *,
        create: bool = False,
        pooled: bool = True,
        seed: Seed | None = None,
    ) -> S:
        """The catalog at ``url``, opened as ``open`` does but only when first used.
        ``pooled=False``: every unit of work connects afresh (no idle connection is held)."""
        resolved, is_default = resolve_db_url(url_of(url))
        return cls(resolved, is_default=is_default, create=create, pooled=pooled, seed=seed)

    def _usable(self) -> None:
        if self._closed:
            raise CatalogClosed(f"the catalog at {self.display_url} was closed: open it again to use it")

    @property
    def creates(self) -> bool:
        """Whether first use may create a SQLite catalog file that does not exist."""
        return self._create or self.is_default

    # ----------------------------------------------------------------- schema (admins)
    # These act on the database at ``url`` without opening it as a catalog (it need not be
    # at the code's schema): call them on a ``deferred`` catalog.

    def exists(self) -> bool:
        """Whether a catalog (a database holding the schema) is there; creates nothing and
        migrates nothing."""
        self._usable()
        from aim_catalog.storage import db

        return db.has_catalog(self.url)

    def upgrade(self, revision: str = "head") -> str | None:
        """Migrate up to ``revision``, creating the database if need be (the default catalog
        is then seeded); the revision it is at afterwards."""
        self._usable()
        from aim_catalog.storage import db

        engine = db.make_engine(self.url, create=True)
        try:
            return db.upgrade(engine, revision, on_created=self._seed)
        finally:
            engine.dispose()

    def downgrade(self, revision: str) -> str | None:
        """Migrate down to ``revision`` ('base' drops every table)."""
        self._usable()
        from aim_catalog.storage import db

        engine = db.make_engine(self.url, create=self.is_default)
        try:
            return db.downgrade(engine, revision)
        finally:
            engine.dispose()

    def revision(self) -> str | None:
        """The schema revision the database is at (None: empty), migrating nothing."""
        self._usable()
        from aim_catalog.storage import db

        engine = db.make_engine(self.url, create=self.is_default)
        try:
            return db.revision_of(engine)
        finally:
            engine.dispose()

    @property
    def engine(self) -> Engine:
        """The engine (opening the catalog, when this is its first use)."""
        self._usable()
        if self._engine is None:
            self._engine = self._connect()
        return self._engine

    def _connect(self) -> Engine:
        from aim_catalog.storage import db

        engine = db.make_engine(self.url, create=self._create or self.is_default, pooled=self._pooled)
        try:
            with self._translated(engine):
                db.ensure_schema(
                    engine,
                    auto_migrate=auto_migrate_enabled(),
                    shared=not self.is_default,
                    on_created=self._seed,
                )
        except BaseException:
            engine.dispose()
            raise
        return engine

    # ----------------------------------------------------------------- lifecycle

    def close(self) -> None:
        """Release the connections; using the store afterwards raises ``CatalogClosed``."""
        self._closed = True
        self._sessions = None
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def __enter__(self: S) -> S:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.display_url!r})"

    @property
    def display_url(self) -> str:
        """The URL without its password: what labels, notes and messages may show."""
        return redact(self.url)

    @property
    def dialect(self) -> str:
        return str(self.engine.dialect.name)

    # ----------------------------------------------------------------- units of work

    @contextmanager
    def translate_errors(self) -> Iterator[None]:
        """Driver errors leave as one line naming the database, never its password."""
        from sqlalchemy.exc import SQLAlchemyError

        try:
            yield
        except SQLAlchemyError as exc:
            raise database_problem(exc, self._engine) from exc

    @staticmethod
    @contextmanager
    def _translated(engine: Engine | None) -> Iterator[None]:
        from sqlalchemy.exc import SQLAlchemyError

        try:
            yield
        except SQLAlchemyError as exc:
            raise database_problem(exc, engine) from exc

    @property
    def sessions(self) -> sessionmaker[Session]:
        """The session factory (for workflows that commit several times, like a launch)."""
        if self._sessions is None:
            from aim_catalog.storage import db

            self._sessions = db.session_factory(self.engine)
        return self._sessions

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """A plain connection for reading (its transaction is rolled back at the end)."""
        with self.translate_errors(), self.engine.connect() as connection:
            yield connection

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session that reads: whatever it did is rolled back at the end."""
        with self.translate_errors(), self.sessions() as session:
            try:
                yield session
            finally:
                session.rollback()

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session whose work is committed when the block ends without an error."""
        with self.translate_errors(), self.sessions() as session:
            try:
                yield session
            except BaseException:
                session.rollback()
                raise
            session.commit()


def url_of(where: Where | None) -> str | None:
    """A database URL for ``where``: a URL as given, a path (``os.PathLike``) as the SQLite
    file it names."""
    if where is None or isinstance(where, str):
        return where
    if isinstance(where, os.PathLike):
        return f"sqlite:///{arguments.path(where, 'url')}"
    raise WrongArgumentType(
        f"url must be a database URL or a path, got {shown(where)} ({type(where).__name__})"
    )
