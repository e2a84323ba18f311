"""Reports for analysts, read from the SQL views migration 0003 ships, and read-only SQL.

Each report is ``(columns, rows)``; the CLI renders it as a table, CSV, JSON or Markdown.
``readonly_sql`` leaves the enforcement to the database: SQLite opens the file read-only
(``mode=ro``), PostgreSQL runs in a read-only transaction; one statement per call
(PostgreSQL: a prepared statement, which cannot hold several).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from aim_catalog.errors import UsageProblem
from aim_catalog.settings import BACKENDS

Table = tuple[list[str], list[tuple[Any, ...]]]
REPORTS = ("coverage", "leaderboard", "benchmarks")


def report(session: Session, name: str) -> Table:
    if name == "coverage":
        return coverage(session)
    if name == "leaderboard":
        return _view(session, "leaderboard", "model, precision, hardware, gpu_count")
    if name == "benchmarks":
        order = "recipe_id, backend, gpu_count, input_len, output_len, concurrency"
        return _view(session, "benchmark_results", order)
    raise UsageProblem(f"unknown report {name!r}; choose one of {', '.join(REPORTS)}")


def _view(session: Session, view: str, order: str) -> Table:
    result = session.execute(text(f"SELECT * FROM {view} ORDER BY {order}"))
    return list(result.keys()), [tuple(row) for row in result]


def coverage(session: Session) -> Table:
    """Model x backend x GPU count: 'enabled', 'disabled' (configs exist, none enabled) or ''."""
    rows = session.execute(
        text("SELECT model, precision, hardware, backend, gpu_count, enabled_configs FROM coverage")
    ).all()
    counts = sorted({row.gpu_count for row in rows})
    cells: dict[tuple[str, str, str, str], dict[int, str]] = {}
    for row in rows:
        key = (row.model, row.precision, row.hardware, row.backend)
        cells.setdefault(key, {})[row.gpu_count] = "enabled" if row.enabled_configs else "disabled"
    order = {b: i for i, b in enumerate(BACKENDS)}
    keys = sorted(cells, key=lambda k: (k[0], k[1], k[2], order.get(k[3], 99)))
    columns = ["model", "precision", "hardware", "backend", *(f"{n} GPU" for n in counts)]
    return columns, [(*key, *(cells[key].get(n, "") for n in counts)) for key in keys]


def readonly_sql(engine: Engine, query: str) -> Table:
    if not query.strip():
        raise UsageProblem("empty query")
    if engine.dialect.name == "sqlite":
        return _sqlite_readonly(engine, query)
    return _postgresql_readonly(engine, query)


def _sqlite_readonly(engine: Engine, query: str) -> Table:
    database = make_url(engine.url).database or ""
    if database in ("", ":memory:"):
        raise UsageProblem("`sql` needs a file catalog")
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30)
    try:
        cursor = connection.execute(query)
        columns = [d[0] for d in cursor.description or []]
        return columns, [tuple(row) for row in cursor.fetchall()]
    except (sqlite3.Error, sqlite3.Warning) as exc:  # Warning: several statements at once
        raise UsageProblem(f"query failed: {exc}") from exc
    finally:
        connection.close()


def _postgresql_readonly(engine: Engine, query: str) -> Table:
    import psycopg

    with engine.connect() as connection:
        raw: Any = connection.connection.driver_connection
        try:
            with raw.cursor() as cursor:
                cursor.execute("SET TRANSACTION READ ONLY")
                cursor.execute(query, prepare=True)  # prepared: exactly one statement
                columns = [d.name for d in cursor.description or []]
                rows: Sequence[Any] = cursor.fetchall() if cursor.description else []
        except psycopg.Error as exc:
            raise UsageProblem(f"query failed: {str(exc).strip().splitlines()[0]}") from exc
        finally:
            raw.rollback()
        return columns, [tuple(row) for row in rows]
