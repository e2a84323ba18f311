"""Everything that differs between SQLite and PostgreSQL, one class per dialect.

``dialect_of(x)`` (an engine, connection, session or dialect name) gives the object that
knows how its database opens an engine, upserts, takes the catalog write lock, runs a
migration and joins a config to its best benchmark row (``base.Dialect``; ``sqlite`` and
``postgresql`` are the two). The rest of the code asks it instead of testing
``dialect.name``. ``lock_for_write``, ``upsert`` and ``insert_missing`` are the writers'
helpers built on it; ``insert_many`` writes many rows of one shape by the driver's own
executemany.

Dialect-specific SQLAlchemy modules (``sqlalchemy.dialects.postgresql``...) are imported
inside the methods that need them: a ``select`` on SQLite never loads PostgreSQL's.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, Table, insert

from aim_catalog.errors import UsageProblem
from aim_catalog.storage.dialects.base import Dialect
from aim_catalog.storage.dialects.postgresql import PostgreSQL
from aim_catalog.storage.dialects.sqlite import SQLite

if TYPE_CHECKING:  # the ORM is imported by the paths that write, not by select
    from sqlalchemy.orm import Session


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


def insert_many(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """``INSERT`` ``rows`` (each with the same keys) by one executemany of the driver: the
    statement compiled once for the session's dialect, the values handed over column by column
    through the type conversions SQLAlchemy would apply (its bind processors). SQLAlchemy's
    own executemany builds every row's parameters again, one dict and one tuple per row: a
    third of the time of writing 100k rows to SQLite. A named-parameter driver (psycopg) gets
    the rows themselves when no column converts; otherwise, SQLAlchemy's executemany."""
    if not rows:
        return
    plan = _Insert(session, table, list(rows[0]))
    if plan.order is None:
        plan.execute(rows if isinstance(rows, list) else list(rows))
        return
    get = operator.itemgetter(*plan.order)
    params = list(map(get, rows)) if len(plan.order) > 1 else [(get(row),) for row in rows]
    if any(plan.processors):
        params = list(zip(*plan.converted(zip(*params, strict=True)), strict=True))
    plan.execute(params)


def insert_columns(
    session: Session,
    table: Table,
    names: Sequence[str],
    columns: Sequence[Sequence[Any]],
    *,
    chunk: int = 5000,
    before: Callable[[int], None] | None = None,
) -> None:
    """``insert_many`` of rows held column by column (a sequence of values per name of
    ``names``), ``chunk`` rows to an executemany (``before`` hears how many were written
    before each): a positional driver (SQLite) gets the rows zipped from the columns, with
    no dict or ``itemgetter`` a row; a named one gets a dict a row, as ``insert_many`` gives
    it."""
    if not columns or not columns[0]:
        return
    plan = _Insert(session, table, names)
    params: list[Any]
    if plan.order is None:
        params = [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]
    else:
        held = dict(zip(names, columns, strict=True))
        params = list(zip(*plan.converted(held[name] for name in plan.order), strict=True))
    for start in range(0, len(params), chunk):
        if before is not None:
            before(start)
        plan.execute(params[start : start + chunk])


class _Insert:
    """An ``INSERT`` of ``names`` into ``table`` compiled for the session's dialect: the
    driver's statement, the order of its parameters for a positional driver (``order``;
    None for named parameters, or where only SQLAlchemy's executemany will do: escaped
    names) and each parameter's bind processor."""

    def __init__(self, session: Session, table: Table, names: Sequence[str]) -> None:
        self.session, self.table = session, table
        self.connection = session.connection()
        dialect = self.connection.dialect
        compiled = insert(table).compile(dialect=dialect, column_keys=list(names), for_executemany=True)
        order = list(compiled.positiontup or []) if compiled.positional else list(compiled.binds)
        binds = [compiled.binds[name] for name in order]
        self.processors = [bind.type.dialect_impl(dialect).bind_processor(dialect) for bind in binds]
        self.statement = compiled.string
        self.order: list[str] | None = order if compiled.positional else None
        self.escaped = bool(compiled.escaped_bind_names)
        if self.escaped:
            self.order = None

    def converted(self, columns: Iterable[Iterable[Any]]) -> list[Iterable[Any]]:
        """The columns (in ``order``) through their bind processors."""
        return [
            column if p is None else map(p, column)
            for column, p in zip(columns, self.processors, strict=True)
        ]

    def execute(self, params: list[Any]) -> None:
        """The rows by the driver's executemany: tuples in ``order``, or dicts (named
        parameters; SQLAlchemy's executemany where a name is escaped or a column converts)."""
        if self.order is None and (self.escaped or any(self.processors)):
            self.session.execute(insert(self.table), params)
            return
        self.connection.exec_driver_sql(self.statement, params)
