"""The Python API: ``Catalog``, one open catalog database and what can be done with it.

Every face (the CLI, a notebook, another service) goes through it::

    from aim_catalog import Catalog, SelectionOptions

    with Catalog.open() as catalog:  # the default catalog; or Catalog.open("postgresql://...")
        best = catalog.select(SelectionOptions("Qwen/Qwen3-32B", gpus=4, backend="vllm"))
        print(best.recipe_id, best.score)

A ``Catalog`` holds one engine whose schema was checked once, when it was opened. Units of
work are explicit: ``read()`` (rolled back, never commits), ``write()`` (commits on success)
and ``connection()`` (a plain Core connection: the select path stays off the ORM). Entities
returned are frozen dataclasses, never ORM rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aim_catalog.options import SelectionOptions
from aim_catalog.settings import auto_migrate_enabled, redact, resolve_db_url

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine
    from sqlalchemy.orm import Session, sessionmaker

    from aim_catalog.selection import Candidate, Request, Verdict

Note = Callable[[str], None]


@dataclass(frozen=True)
class Explanation:
    """``Catalog.explain``'s answer: the request as compared, one verdict per config, and
    (when nothing was chosen) the message ``select`` would give."""

    request: Request
    verdicts: tuple[Verdict, ...]
    no_match: str | None

    @property
    def chosen(self) -> Verdict | None:
        return next((v for v in self.verdicts if v.verdict == "chosen"), None)


class Catalog:
    """An open catalog. Use ``Catalog.open(url)``; close it (or use ``with``) when done."""

    def __init__(self, engine: Engine, *, url: str, is_default: bool) -> None:
        self.engine = engine
        self.url = url
        self.is_default = is_default
        self._sessions: sessionmaker[Session] | None = None

    @classmethod
    def open(cls, url: str | None = None, *, create: bool = False) -> Catalog:
        """Open the catalog at ``url`` (None: ``$AIM_CATALOG_DB_URL``, else the default one).

        The default catalog is created, migrated and seeded with the bundled recipes on first
        use; any other database that holds an older schema is refused until its admin runs
        ``aim-catalog db upgrade``. A SQLite file that does not exist is an error unless
        ``create`` (or it is the default catalog).
        """
        from aim_catalog import db

        resolved, is_default = resolve_db_url(url)
        engine = db.make_engine(resolved, create=create or is_default)
        catalog = cls(engine, url=resolved, is_default=is_default)
        try:
            with catalog._translated():
                db.ensure_schema(
                    engine, auto_migrate=auto_migrate_enabled(), seed=is_default, shared=not is_default
                )
        except BaseException:
            engine.dispose()
            raise
        return catalog

    # ----------------------------------------------------------------- lifecycle

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Catalog({self.display_url!r})"

    @property
    def display_url(self) -> str:
        """The URL without its password: what labels, notes and messages may show."""
        return redact(self.url)

    @property
    def dialect(self) -> str:
        return str(self.engine.dialect.name)

    # ----------------------------------------------------------------- units of work

    @contextmanager
    def _translated(self) -> Iterator[None]:
        """Driver errors leave as one line naming the database, never its password."""
        from sqlalchemy.exc import SQLAlchemyError

        from aim_catalog import db

        try:
            yield
        except SQLAlchemyError as exc:
            raise db.database_problem(exc, self.engine) from exc

    @property
    def sessions(self) -> sessionmaker[Session]:
        """The session factory (for workflows that commit several times, like a launch)."""
        if self._sessions is None:
            from aim_catalog import db

            self._sessions = db.session_factory(self.engine)
        return self._sessions

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """A plain connection for reading (its transaction is rolled back at the end)."""
        with self._translated(), self.engine.connect() as connection:
            yield connection

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session that reads: whatever it did is rolled back at the end."""
        with self._translated(), self.sessions() as session:
            try:
                yield session
            finally:
                session.rollback()

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session whose work is committed when the block ends without an error."""
        with self._translated(), self.sessions() as session:
            try:
                yield session
            except BaseException:
                session.rollback()
                raise
            session.commit()

    # ----------------------------------------------------------------- selection

    def request(self, asked: Request | SelectionOptions, *, note: Note | None = None) -> Request:
        """The domain request for ``asked`` (options are completed from this host's GPUs)."""
        if isinstance(asked, SelectionOptions):
            return asked.to_request(note=note)
        return asked

    def select(self, asked: Request | SelectionOptions, *, note: Note | None = None) -> Candidate:
        """The best enabled config for the request (``NoSuitableRecipe`` when none fits)."""
        from aim_catalog.selection import select_best

        request = self.request(asked, note=note)
        with self.connection() as connection:
            return select_best(connection, request)

    def explain(self, asked: Request | SelectionOptions, *, note: Note | None = None) -> Explanation:
        """Every config of the model with its verdict: chosen, ranked k of n, or why not."""
        from aim_catalog.selection import explain, no_match_message, resolve_backend

        request = self.request(asked, note=note)
        with self.connection() as connection:
            request = resolve_backend(connection, request)  # what explain compared
            verdicts = tuple(explain(connection, request))
            chosen = any(v.verdict == "chosen" for v in verdicts)
            missing = None if chosen else no_match_message(connection, request)
        return Explanation(request, verdicts, missing)
