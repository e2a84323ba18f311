"""`aim-catalog sql` on PostgreSQL: a read-only transaction, ``statement_timeout``, rows
streamed by psycopg, and only under a role without powers over the server (``roles``).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from sqlalchemy import Connection, Engine

from aim_catalog.errors import CatalogError, EnvironmentProblem, UsageProblem, first_line
from aim_catalog.measurements.sql.query import (
    QueryInterrupted,
    Result,
    UnsafeRole,
    timed_out,
)
from aim_catalog.settings import SQL_PASSWORD_ENV, SQL_ROLE_ENV


def _role_engine(engine: Engine, role: str | None, password: str | None) -> Engine | None:
    """An engine logging in as ``role`` (None: the catalog URL's user is that role already)."""
    if role is None or role == engine.url.username:
        return None
    from aim_catalog.measurements.sql.roles import check_role_name

    check_role_name(role)
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    # _replace, not set(): set() leaves a None password as it was, which would offer the
    # catalog user's password for ROLE.
    return create_engine(engine.url._replace(username=role, password=password), poolclass=NullPool)


@contextmanager
def postgresql_query(
    engine: Engine, query: str, timeout: float, role: str | None, password: str | None
) -> Iterator[Result]:
    import psycopg
    from sqlalchemy.exc import SQLAlchemyError

    from aim_catalog.errors import database_problem

    as_role = _role_engine(engine, role, password)
    target = as_role or engine
    try:
        try:
            connection = target.connect()
        except SQLAlchemyError as exc:
            problem = database_problem(exc, target)
            if as_role is not None:
                problem = EnvironmentProblem(
                    f"{problem}: logging in as role {role} needs its password in {SQL_PASSWORD_ENV} "
                    "(or ~/.pgpass / PGPASSWORD)"
                )
            raise problem from None
        with connection:
            _begin_read_only(connection, target, timeout)
            raw: Any = connection.connection.driver_connection
            cursor = raw.cursor()
            # Rows in chunks (libpq 17+): a third less CPU than row by row, and no later on
            # screen, since the server itself sends rows when its 8 kB buffer fills.
            stream = cursor.stream(query, size=1000 if psycopg.pq.version() >= 170000 else 1)
            try:
                try:
                    columns, rows = _pg_start(cursor, stream)
                except psycopg.Error as exc:
                    raise _pg_failure(exc, timeout) from None
                try:
                    yield Result(columns, rows)
                except psycopg.Error as exc:
                    raise _pg_failure(exc, timeout) from None
            except KeyboardInterrupt:  # psycopg has already cancelled the statement
                raise QueryInterrupted("interrupted") from None
            finally:
                stream.close()
                with suppress(psycopg.Error):
                    raw.rollback()
    finally:
        if as_role is not None:
            as_role.dispose()


def _begin_read_only(connection: Connection, target: Engine, timeout: float) -> None:
    """A read-only, time-limited transaction, under a role without powers over the server."""
    from sqlalchemy.exc import DBAPIError

    from aim_catalog.errors import database_problem
    from aim_catalog.measurements.sql.roles import powers_of

    try:
        connection.exec_driver_sql("SET TRANSACTION READ ONLY")
        connection.exec_driver_sql(f"SET LOCAL statement_timeout = {math.ceil(timeout * 1000)}")
        # The check reads the catalogs, so it also takes the transaction's snapshot:
        # after it, SET TRANSACTION READ WRITE is refused.
        powers = powers_of(connection)
        user = connection.exec_driver_sql("SELECT session_user").scalar()
    except DBAPIError as exc:
        raise database_problem(exc, target) from None
    if powers:
        raise UnsafeRole(
            f"`sql` refuses to run as role {user}: it holds {', '.join(powers)}, which a "
            "read-only transaction does not restrain (server programs, files, other sessions). "
            "Create a role that can only read the catalog with `aim-catalog db grant-readonly "
            f"ROLE`, then run `aim-catalog sql --role ROLE` (or set {SQL_ROLE_ENV})"
        )


def _pg_start(cursor: Any, stream: Iterator[Any]) -> tuple[list[str], Iterator[tuple[Any, ...]]]:
    """The column names and the rows, once the first row (or the end) has arrived."""
    import psycopg

    try:
        first = next(stream, None)
    except psycopg.ProgrammingError as exc:
        if exc.sqlstate is not None:
            raise
        return [], iter(())  # a statement that returns no rows at all (SET ..., CHECKPOINT)
    if first is None:  # no rows: the statement's own description names the columns
        described = cursor.connection.pgconn.describe_prepared(b"")
        return [described.fname(i).decode() for i in range(described.nfields)], iter(())
    return [c.name for c in cursor.description or []], _pg_rows(first, stream)


def _pg_rows(first: tuple[Any, ...], stream: Iterator[Any]) -> Iterator[tuple[Any, ...]]:
    yield tuple(first)
    for row in stream:
        yield tuple(row)


def _pg_failure(exc: Any, timeout: float) -> CatalogError:
    if exc.sqlstate == "57014" and "statement timeout" in str(exc):
        return timed_out(timeout)
    return UsageProblem(f"query failed: {first_line(exc)}")
