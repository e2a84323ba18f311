"""Analysts' SQL (``aim-catalog sql``): one statement, read-only, time-limited, streamed.

SQLite opens the catalog file read-only behind an authorizer (``sqlite``); PostgreSQL runs
a read-only transaction with ``statement_timeout``, only under a role without powers over
the server (``postgresql``, ``roles``): a read-only transaction alone stops no superuser.
What both share (the result, the timeout, its errors) is ``query``'s. Rows are yielded as
they arrive, never gathered in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING

from aim_catalog.errors import UsageProblem
from aim_catalog.measurements.sql.query import DEFAULT_TIMEOUT, Result

if TYPE_CHECKING:
    from sqlalchemy import Engine

Runner = Callable[["Engine", str, float, "str | None", "str | None"], AbstractContextManager[Result]]


def _sqlite(
    engine: Engine, query: str, timeout: float, role: str | None, _password: str | None
) -> AbstractContextManager[Result]:
    if role is not None:
        raise UsageProblem("--role applies to PostgreSQL catalogs; SQLite needs none")
    from aim_catalog.measurements.sql.sqlite import sqlite_query

    return sqlite_query(engine, query, timeout)


def _postgresql(
    engine: Engine, query: str, timeout: float, role: str | None, password: str | None
) -> AbstractContextManager[Result]:
    from aim_catalog.measurements.sql.postgresql import postgresql_query

    return postgresql_query(engine, query, timeout, role, password)


# One runner per dialect name (``storage.dialects``' names); each imports its side when used.
_RUNNERS: dict[str, Runner] = {"sqlite": _sqlite, "postgresql": _postgresql}


@contextmanager
def readonly_query(
    engine: Engine,
    query: str,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    role: str | None = None,
    password: str | None = None,
) -> Iterator[Result]:
    """Run ``query`` read-only; the rows stream while the context is open.

    ``timeout`` 0 means no limit. ``role`` (PostgreSQL only; default $AIM_CATALOG_SQL_ROLE)
    logs in as that role instead of the catalog URL's user, with ``password`` (default
    $AIM_CATALOG_SQL_PASSWORD) or libpq's own sources (~/.pgpass...).
    """
    if not query.strip():
        raise UsageProblem("empty query")
    from aim_catalog.settings import sql_password, sql_role
    from aim_catalog.storage.dialects import dialect_of

    dialect = dialect_of(engine)
    if role is None and dialect.roles:
        role = sql_role()
    with _RUNNERS[dialect.name](engine, query, timeout, role, password or sql_password()) as result:
        yield result
