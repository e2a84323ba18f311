"""What every dialect provides (``Dialect``) and what their write locks share.

The catalog write lock: ``BEGIN IMMEDIATE`` on SQLite, a transaction-scoped advisory lock
on PostgreSQL, so two processes migrating or ingesting at once queue instead of colliding.
A writer that has to wait says so once (a warning of the ``aim_catalog.storage`` logger,
which the CLI shows on stderr), and gives up after the lock timeout.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from aim_catalog.errors import EnvironmentProblem
from aim_catalog.settings import LOCK_TIMEOUT_ENV, MAX_SQL_INT

if TYPE_CHECKING:
    from sqlalchemy import URL, ColumnElement, Connection, Engine, FromClause, Select, Table

log = logging.getLogger("aim_catalog.storage")

# pg_advisory_xact_lock key for "someone is writing the catalog" ("AIMC").
WRITE_LOCK_KEY = 0x41494D43


def millis(seconds: float) -> int:
    """A timeout in milliseconds, as SQLite's busy_timeout and PostgreSQL's lock_timeout take it."""
    return min(int(seconds * 1000), MAX_SQL_INT)


class WriteLockTimeout(EnvironmentProblem):
    """Another process held the catalog write lock for longer than the configured limit."""


def waiting_note(limit: float) -> None:
    """Said once per wait: a writer that queues should not look hung."""
    log.warning(
        "note: another process is writing the catalog; waiting for it (up to %g s, set by %s)",
        limit,
        LOCK_TIMEOUT_ENV,
    )


def gave_up(limit: float) -> WriteLockTimeout:
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

    def bulk_write(self, connection: Connection) -> AbstractContextManager[None]:
        """``connection`` set up, for the length of the block, to write many rows in its
        transaction (as it is, unless the dialect says otherwise)."""
        return nullcontext()

    @abstractmethod
    def migration_transaction(self, connection: Connection) -> AbstractContextManager[None]:
        """One transaction holding the write lock, in which a migration runs."""

    @abstractmethod
    def json_rows(self, *columns: ColumnElement[Any]) -> ColumnElement[Any]:
        """An aggregate of the selected rows as one JSON array of arrays (``columns`` in
        order, one array per row); NULL or ``[]`` when there is no row."""

    @abstractmethod
    def best_row_join(
        self, best_of_config: Select[Any], best_alias: FromClause, inner_id: ColumnElement[Any]
    ) -> tuple[FromClause, ColumnElement[bool]]:
        """What to join a serve config to, and on what, to get its best benchmark row.

        ``best_of_config`` selects the config's benchmark rows (correlated to the config),
        best first, ``LIMIT 1``; ``best_alias`` is an alias of the benchmarks table named
        ``best`` and ``inner_id`` the id column ``best_of_config`` reads rows from.
        """
