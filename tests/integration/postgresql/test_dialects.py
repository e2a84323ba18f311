"""dialects.py: the one place that knows SQLite from PostgreSQL, and its write lock: writers
queue behind another (saying so once) up to a limit.

Concurrency is tested with a real second writer (a raw connection holding the write lock
in this process) against a real `aim-catalog` process.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Column, Engine, Float, Integer, MetaData, String, Table, insert, select
from sqlalchemy.orm import Session
from support.catalogs import WAITING, first_stderr_line, ingest_process, recipes_in, write_lock_held
from typer.testing import CliRunner

from aim_catalog.cli import app
from aim_catalog.errors import UsageProblem
from aim_catalog.storage.dialects import PostgreSQL, SQLite, dialect_of, insert_columns, insert_many


def test_dialect_of_an_engine_a_connection_a_session_and_a_name(engine: Engine) -> None:
    expected = SQLite if engine.dialect.name == "sqlite" else PostgreSQL
    with engine.connect() as connection, Session(engine) as session:
        found = [dialect_of(x) for x in (engine, connection, session, engine.dialect.name)]
    assert all(isinstance(d, expected) for d in found)
    with pytest.raises(UsageProblem, match="unsupported database 'mysql': use sqlite:/// or postgresql://"):
        dialect_of("mysql")


def _table(metadata: MetaData, name: str) -> Table:
    key = Column("id", Integer, primary_key=True)
    return Table(name, metadata, key, Column("x", Float), Column("n", Integer), Column("s", String(10)))


def test_insert_many_writes_what_sqlalchemy_writes(engine: Engine) -> None:
    """The driver's executemany of ``insert_many`` stores what SQLAlchemy's own executemany
    stores: an integer in a Float column comes back a float (its bind processor), None NULL."""
    metadata = MetaData()
    ours, theirs = _table(metadata, "insert_many_ours"), _table(metadata, "insert_many_theirs")
    metadata.create_all(engine)
    rows = [{"x": 2, "n": 3, "s": "a"}, {"x": 0.5, "n": None, "s": None}, {"x": None, "n": 7, "s": "é"}]
    try:
        with Session(engine) as session:
            insert_many(session, ours, rows)
            insert_many(session, ours, [])
            session.execute(insert(theirs), rows)
            found = [list(session.execute(select(t).order_by(t.c.id))) for t in (ours, theirs)]
            session.commit()
        assert found[0] == found[1] == [(1, 2.0, 3, "a"), (2, 0.5, None, None), (3, None, 7, "é")]
        assert [type(row[1]) for row in found[0]] == [float, float, type(None)]
    finally:
        metadata.drop_all(engine)


def test_insert_columns_writes_what_insert_many_writes(engine: Engine) -> None:
    """``insert_columns`` (rows held column by column) stores what ``insert_many`` of the
    same rows stores, in their order, ``chunk`` rows at a time (``before`` hears how many
    went before each), whatever the order of the names."""
    metadata = MetaData()
    ours, theirs = _table(metadata, "insert_columns_ours"), _table(metadata, "insert_columns_theirs")
    metadata.create_all(engine)
    rows = [{"s": "c", "x": 2, "n": 3}, {"s": "a", "x": 0.5, "n": None}, {"s": "b", "x": None, "n": 7}]
    names = ("s", "x", "n")
    columns = [[row[name] for row in rows] for name in names]
    heard: list[int] = []
    try:
        with Session(engine) as session:
            insert_columns(session, ours, names, columns, chunk=2, before=heard.append)
            insert_columns(session, ours, names, [[], [], []])
            insert_many(session, theirs, rows)
            found = [list(session.execute(select(t).order_by(t.c.id))) for t in (ours, theirs)]
            session.commit()
        assert found[0] == found[1] == [(1, 2.0, 3, "c"), (2, 0.5, None, "a"), (3, None, 7, "b")]
        assert [type(row[1]) for row in found[0]] == [float, float, type(None)]
        assert heard == [0, 2]
    finally:
        metadata.drop_all(engine)


def test_a_writer_queues_behind_another_and_says_so_once(
    engine: Engine, db_url: str, proc_env: dict[str, str], write_recipe: Callable[..., Path], tmp_path: Path
) -> None:
    for i in range(3):
        write_recipe(f"q{i}")
    with write_lock_held(db_url):
        proc = ingest_process(db_url, tmp_path / "recipes", proc_env)
        first = first_stderr_line(proc, within=30)  # the process says it waits: it is queued
        assert WAITING in first, first
        assert proc.poll() is None  # still waiting while the lock is held
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert out.strip() == "added 3, updated 0, unchanged 0, removed 0"
    assert WAITING not in err  # said once
    assert recipes_in(db_url) == 3


def test_a_writer_gives_up_after_the_limit_with_one_line(
    engine: Engine, db_url: str, proc_env: dict[str, str], write_recipe: Callable[..., Path], tmp_path: Path
) -> None:
    write_recipe("q0")
    with write_lock_held(db_url):
        proc = ingest_process(db_url, tmp_path / "recipes", {**proc_env, "AIM_CATALOG_LOCK_TIMEOUT": "1.5"})
        try:
            out, err = proc.communicate(timeout=30)
        finally:
            proc.kill()
    assert proc.returncode == 1, err
    lines = err.strip().splitlines()
    assert len(lines) == 2 and WAITING in lines[0] and "(up to 1.5 s" in lines[0], err
    assert "another process kept the catalog locked for writing; gave up after 1.5 s" in lines[1]
    assert "AIM_CATALOG_LOCK_TIMEOUT" in lines[1] and "Traceback" not in err and out == ""
    assert recipes_in(db_url) == 0  # unchanged


def test_a_bad_lock_timeout_setting_is_a_usage_error(
    engine: Engine, db_url: str, write_recipe: Callable[..., Path], tmp_path: Path
) -> None:
    write_recipe("q0")
    for bad in ("nan", "-1", "soon", "1e400"):
        result = CliRunner().invoke(
            app, ["--db", db_url, "ingest", str(tmp_path / "recipes")], env={"AIM_CATALOG_LOCK_TIMEOUT": bad}
        )
        assert result.exit_code == 2, (bad, result.stderr, result.exception)
        assert result.stderr.strip().startswith("error: AIM_CATALOG_LOCK_TIMEOUT must be a number of seconds")
    assert recipes_in(db_url) == 0
