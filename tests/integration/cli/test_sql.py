"""`aim-catalog sql` on SQLite: the file is opened read-only through a percent-escaped URI and
an authorizer refuses ATTACH, VACUUM (INTO) and writes; the timeout is finite; Ctrl-C stops it.
"""

from __future__ import annotations

import itertools
import queue
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.sql import INFINITE, interrupt, one_error_line, subprocess_env

from aim_catalog.measurements.sql import sqlite as readonly_sqlite

# --------------------------------------------------------------------------- SQLite


@pytest.fixture
def sqlite_catalog(make_catalog: Callable[..., Any], tmp_path: Path) -> Path:
    """A SQLite catalog file holding 'safe-a' (one vLLM 1-GPU config)."""
    path = tmp_path / "catalog.db"
    make_catalog({"safe-a": {}}, into=f"sqlite:///{path}")
    return path


def test_vacuum_and_vacuum_into_are_refused_and_write_no_file(
    cli: Callable[..., Any], sqlite_catalog: Path, tmp_path: Path
) -> None:
    url = f"sqlite:///{sqlite_catalog}"
    copy = tmp_path / "copy.db"
    result = cli("sql", f"VACUUM INTO '{copy}'", code=2, db_url=url)
    assert "does not allow ATTACH (and VACUUM" in one_error_line(result)
    assert not copy.exists()
    before = sqlite_catalog.stat().st_mtime_ns, sqlite_catalog.read_bytes()
    cli("sql", "VACUUM", code=2, db_url=url)
    assert (sqlite_catalog.stat().st_mtime_ns, sqlite_catalog.read_bytes()) == before


def test_attach_is_refused_and_creates_no_file(
    cli: Callable[..., Any], sqlite_catalog: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other.db"
    result = cli("sql", f"ATTACH '{other}' AS x", code=2, db_url=f"sqlite:///{sqlite_catalog}")
    assert "does not allow ATTACH" in one_error_line(result)
    assert not other.exists()


def test_a_catalog_under_a_directory_named_with_hash_is_read_where_it_is(
    cli: Callable[..., Any], write_recipe: Callable[..., Path], tmp_path: Path
) -> None:
    """Unescaped, file:/x/a #1/catalog.db?mode=ro opened '/x/a ' read-write-create."""
    folder = tmp_path / "a #1"
    write_recipe("safe-a")
    write_recipe("safe-b")
    url = f"sqlite:///{folder / 'catalog.db'}"
    cli("ingest", str(tmp_path / "recipes"), db_url=url)
    count = cli("sql", "SELECT count(*) AS n FROM recipes", "-f", "csv", db_url=url)
    assert count.stdout.splitlines() == ["n", "2"]
    result = cli("sql", "CREATE TABLE planted (x INTEGER)", code=2, db_url=url)
    assert "read-only" in one_error_line(result)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("a")] == ["a #1"]  # no 'a ' file
    with sqlite3.connect(folder / "catalog.db") as check:
        assert not check.execute("SELECT 1 FROM sqlite_master WHERE name = 'planted'").fetchall()


def test_a_catalog_in_a_directory_nobody_may_write_is_still_read(
    cli: Callable[..., Any], write_recipe: Callable[..., Path], tmp_path: Path
) -> None:
    """WAL needs a -shm file beside the catalog; where none can be made, read a snapshot."""
    folder = tmp_path / "sealed"
    write_recipe("safe-a")
    url = f"sqlite:///{folder / 'catalog.db'}"
    cli("ingest", str(tmp_path / "recipes"), db_url=url)
    assert sorted(p.name for p in folder.iterdir()) == ["catalog.db"]  # no -shm left behind
    if subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i (an immutable directory, even for root) is not available here")
    try:
        count = cli("sql", "SELECT count(*) AS n FROM recipes", "-f", "csv", db_url=url)
        assert count.stdout.splitlines() == ["n", "1"]
        cli("sql", "CREATE TABLE planted (x INTEGER)", code=2, db_url=url)
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)


@pytest.mark.parametrize(
    "statement",
    [
        "CREATE TEMP TABLE t (x INTEGER)",
        "PRAGMA user_version = 7",
        "PRAGMA writable_schema = 1",
        "PRAGMA wal_checkpoint",
        "DETACH main",
        "INSERT INTO recipes (recipe_id) VALUES ('x')",
    ],
)
def test_sqlite_refuses_every_write_and_acting_pragma(
    cli: Callable[..., Any], sqlite_catalog: Path, statement: str
) -> None:
    result = cli("sql", statement, code=2, db_url=f"sqlite:///{sqlite_catalog}")
    assert "`sql` is read-only" in one_error_line(result)


def test_sqlite_introspection_still_works(cli: Callable[..., Any], sqlite_catalog: Path) -> None:
    url = f"sqlite:///{sqlite_catalog}"
    columns = cli("sql", "SELECT name FROM pragma_table_info('recipes')", "-f", "csv", db_url=url)
    assert "recipe_id" in columns.stdout.splitlines()
    assert cli("sql", "PRAGMA table_info(recipes)", "-f", "csv", db_url=url).stdout.count("\n") > 5
    assert cli("sql", "PRAGMA user_version", "-f", "csv", db_url=url).stdout.splitlines()[0] == "user_version"


def test_role_is_for_postgresql(cli: Callable[..., Any], sqlite_catalog: Path) -> None:
    result = cli("sql", "SELECT 1", "--role", "reader", code=2, db_url=f"sqlite:///{sqlite_catalog}")
    assert "--role applies to PostgreSQL" in one_error_line(result)
    result = cli("db", "grant-readonly", "reader", code=2, db_url=f"sqlite:///{sqlite_catalog}")
    assert "grant-readonly is for PostgreSQL" in one_error_line(result)


# --------------------------------------------------------------------------- time limits


@pytest.mark.parametrize("value", ["nan", "-1", "inf", "-inf", "abc", "1e12", ""])
def test_timeout_must_be_a_finite_number_of_seconds(
    cli: Callable[..., Any], sqlite_catalog: Path, value: str
) -> None:
    result = cli("sql", "SELECT 1", "--timeout", value, code=2, db_url=f"sqlite:///{sqlite_catalog}")
    assert "--timeout must be a number of seconds" in one_error_line(result)


def test_the_default_timeout_is_30_seconds_on_sqlite(
    cli: Callable[..., Any], sqlite_catalog: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ticks = itertools.count(0.0, 0.5)  # a clock that runs 0.5 s per look
    seen: list[float] = []

    def clock() -> float:
        seen.append(next(ticks))
        return seen[-1]

    monkeypatch.setattr(readonly_sqlite, "_clock", clock)
    result = cli("sql", INFINITE, code=124, db_url=f"sqlite:///{sqlite_catalog}")
    assert "--timeout 30 s" in one_error_line(result)
    assert 30 < seen[-1] <= 31  # stopped at the first look past 30 s, not before


def _run_until_first_row(argv: list[str], tmp_path: Path) -> subprocess.Popen[str]:
    """Start `aim-catalog ARGV` and return once it has printed a header and a row."""
    process = subprocess.Popen(
        [sys.executable, "-m", "aim_catalog", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=subprocess_env(tmp_path),
    )
    lines: queue.Queue[str] = queue.Queue()
    stdout = process.stdout
    assert stdout is not None
    threading.Thread(target=lambda: [lines.put(line) for line in stdout], daemon=True).start()
    try:
        seen = [lines.get(timeout=60), lines.get(timeout=60)]
    except queue.Empty:
        process.kill()
        raise AssertionError(f"no first row streamed; stderr {process.communicate()[1]!r}") from None
    assert seen[0].strip() == "n" and seen[1].strip() == "1"
    return process


def test_ctrl_c_stops_a_sqlite_query_promptly(sqlite_catalog: Path, tmp_path: Path) -> None:
    """SQLite ignores SIGINT inside a step: a progress handler has to look at a flag.

    Python's sqlite3 hands out a row once it has found the next one, hence rows 1 and 2.
    """
    endless = (
        "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT n FROM r WHERE n IN (1, 2)"
    )
    process = _run_until_first_row(
        ["--db", f"sqlite:///{sqlite_catalog}", "sql", endless, "-f", "csv", "--timeout", "0"], tmp_path
    )
    code, stderr = interrupt(process)
    assert (code, stderr) == (130, "error: interrupted\n")
